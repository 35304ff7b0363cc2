// ESLint 9 flat config for the scanner-bridge tests (tests/integration/scanners.py passes it
// with -c): security-flavoured core rules only, no plugins.
module.exports = [
  {
    files: ["**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "commonjs",
      globals: { console: "readonly", setTimeout: "readonly" },
    },
    linterOptions: { reportUnusedDisableDirectives: "warn" },
    rules: {
      "no-eval": "error",
      "no-implied-eval": "error",
      "no-new-func": "error",
      "no-undef": "error",
      "no-unused-vars": "warn",
    },
  },
];
