// Prints, as JSON, the headers helmet (the npm package pinned in xtask/node) sets and removes
// with its defaults: {"set": {name: value}, "removed": [name]}. Argument: node_modules.
"use strict";
const path = require("path");
const helmet = require(path.join(process.argv[2], "helmet")).default
  || require(path.join(process.argv[2], "helmet"));

const set = {};
const removed = [];
const response = {
  setHeader(name, value) { set[name.toLowerCase()] = String(value); },
  removeHeader(name) { removed.push(name.toLowerCase()); },
  getHeader(name) { return set[name.toLowerCase()]; },
};
helmet()({ headers: {}, secure: true }, response, (error) => {
  if (error) { throw error; }
  process.stdout.write(JSON.stringify({ set, removed }));
});
