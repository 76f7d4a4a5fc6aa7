// The keys of `check --json`'s object, in docs/DESIGN.md's order (its first example): written
// once, so each test of a variant (a Jacobian, fast mode) adds only its own key.
export const CHECK_JSON_KEYS = [
  "expr",
  "at",
  "value",
  "verdict",
  "blame",
  "reason",
  "gradients",
] as const;
