// gradtrio's public API: re-exports only.
export { type ErrorCode, GradtrioError, isGradtrioError } from "./errors.ts";
export * from "./expr/ast.ts";
export { type Algebra, interpret } from "./expr/interpret.ts";
export { BUILTIN_OPS, type BuiltinOp, type CustomOpDefinition, type Interval } from "./expr/ops.ts";
export { fromValue, type NestedArray, type Point, toValue, type Value } from "./expr/point.ts";
