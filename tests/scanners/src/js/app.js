// A deliberately bad module for ESLint (eslint.config.js beside tests/scanners/).
const helper = require("./lib");
const unused = 42;

function run(input) {
  const f = new Function("a", "return a");
  setTimeout("run(1)", 10);
  eval(input); // jfs-test: removed in run 2
  // eslint-disable-next-line no-eval -- a reviewed use: the input is a constant
  eval("1 + 1");
  return f(input) + undefinedThing + helper.twice(input);
}

module.exports = run;
