/**
 * Printing tensors as PyTorch prints them (float64 data shown as PyTorch's default float dtype).
 * STUB: replaced by the real implementation (see the format helper's task).
 */
export interface FormatSuffix {
  readonly requiresGrad?: boolean;
  /** The grad_fn name, e.g. "PowBackward0", or null for leaves and constants. */
  readonly gradFn?: string | null;
}

/** `tensor(9., grad_fn=<PowBackward0>)`, `tensor([0.6667, 1.3333, 2.0000])`, … */
export function formatTensor(
  data: Float64Array,
  shape: readonly number[],
  suffix: FormatSuffix = {},
): string {
  const body = shape.length === 0 ? String(data[0]) : `[${Array.from(data).join(", ")}]`;
  const extras: string[] = [];
  if (suffix.gradFn) extras.push(`grad_fn=<${suffix.gradFn}>`);
  else if (suffix.requiresGrad) extras.push("requires_grad=True");
  return `tensor(${[body, ...extras].join(", ")})`;
}
