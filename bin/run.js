#!/usr/bin/env node
// podnet entry point: the oclif manifest (oclif.manifest.json) lets this start without loading commands.
import { execute } from '@oclif/core/execute';

await execute({ dir: import.meta.url });
