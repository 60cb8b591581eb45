/** FC's rule for a function name: a letter or underscore, then up to 127 of letters, digits, `_` and `-`. */
export const FUNCTION_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
