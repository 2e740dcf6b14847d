#!/usr/bin/env node
// Launcher for a checkout: runs the TypeScript sources through tsx. The packages ship a
// bundled /usr/bin/edge-agent instead and never load this file.
"use strict";
require("tsx/cjs");
require("../agent/main.ts");
