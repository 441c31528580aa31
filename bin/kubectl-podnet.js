#!/usr/bin/env node
// kubectl plugin entry point: `kubectl podnet …` runs this; help and messages then read "kubectl podnet".
import { readFileSync } from 'node:fs';
import { execute } from '@oclif/core/execute';

const root = new URL('..', import.meta.url);
const pjson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
pjson.oclif.bin = 'kubectl podnet';
await execute({ dir: import.meta.url, loadOptions: { root: root.pathname, pjson } });
