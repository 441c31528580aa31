import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/, lowest first: a folder may import only from the folders listed for it (and from
 * itself). Commands and services sit on top; what reads or changes a node sits below them; pure data,
 * math and helpers at the bottom. `npm run lint` fails on an import that runs up the layers.
 */
const LAYERS = {
  util: [],
  net: ['util'],
  inventory: ['util', 'net'],
  facts: ['util', 'net'],
  checks: ['util', 'net', 'facts'],
  plan: ['util', 'net', 'facts', 'inventory'],
  render: ['util', 'net', 'facts', 'inventory', 'plan'],
  cni: ['util'],
  probe: ['util', 'net'],
  completion: ['util'],
  kube: ['util', 'net', 'facts', 'inventory'],
  transport: ['util', 'inventory', 'kube'],
  lab: ['util', 'net', 'transport', 'kube'],
  services: ['util', 'net', 'inventory', 'facts', 'checks', 'plan', 'render', 'cni', 'probe', 'transport', 'kube', 'lab'],
  cli: ['util', 'net', 'inventory', 'facts', 'checks', 'plan', 'render', 'cni', 'probe', 'transport', 'kube', 'lab', 'services', 'completion'],
  hooks: ['util', 'cli'],
  commands: ['util', 'net', 'inventory', 'facts', 'checks', 'plan', 'render', 'cni', 'probe', 'transport', 'kube', 'lab', 'services', 'completion', 'cli'],
};

const layering = Object.entries(LAYERS).map(([dir, allowed]) => {
  const forbidden = Object.keys(LAYERS).filter((d) => d !== dir && !allowed.includes(d));
  return {
    files: [`src/${dir}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: forbidden.map((d) => ({
            group: [`../${d}/*`, `../../${d}/*`],
            message: `src/${dir} may import only from ${allowed.length ? allowed.join(', ') : 'nothing else in src'} (layering in eslint.config.js)`,
          })),
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'completions/', 'oclif.manifest.json'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layering,
);
