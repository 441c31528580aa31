/**
 * The inventory file's shape: zod schemas with defaults, the strict value patterns, and the resolved types
 * the rest of podnet consumes. Every value that can end up in an ssh argv or a remote shell is pinned to a
 * narrow pattern here, so quoting (util/shell.ts) is a second wall rather than the only one. Each schema
 * carries its own error map so a failure reads "<value> is not a valid <what>; expected <how>" instead
 * of zod's generic wording; load.ts adds the field path. Cross-field rules live in load.ts.
 */
import { z } from 'zod';
import { isIp, parseCidr } from '../net/cidr.js';
import { describeValue } from '../util/describe.js';
import { refuseSshOption } from './ssh-options.js';
import { IMAGE_PATTERN } from '../util/image-ref.js';
import type { IpFamily } from '../net/family.js';

export const API_VERSION = 'podnet/v1alpha1';
export const KIND = 'Inventory';

/** A Kubernetes node name: a DNS subdomain (lower-case labels joined by dots, 253 characters at most). */
export const NODE_NAME_PATTERN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
export const HOSTNAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
export { IMAGE_PATTERN };
export const INTERFACE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
export const CNI_BIN_DIR_PATTERN = /^\/[A-Za-z0-9._/-]+$/;
export const SSH_USER_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
export const SSH_PATH_PATTERN = /^[A-Za-z0-9_./~@+-]+$/;
export const SSH_OPTION_PATTERN = /^[A-Za-z][A-Za-z0-9]*=[A-Za-z0-9_./~@%:,+=-]*$/;

export const MODES = ['auto', 'host-gw', 'vxlan'] as const;
export type Mode = (typeof MODES)[number];

export const DEFAULT_POD_CIDR = '10.244.0.0/16';
/** Used when cluster.nodeMaskSize is absent; IPv6 has its own because /24 cannot sit inside a typical /48. */
export const DEFAULT_NODE_MASK_SIZE = { 4: 24, 6: 64 } as const;

export const SSH_DEFAULTS = {
  user: 'root',
  port: 22,
  sudo: false,
  options: [] as string[],
  connectTimeout: 10,
  commandTimeout: 120,
  acceptNewHostKeys: false,
};

// ---- messages ---------------------------------------------------------------------------------------

// describeValue lives in util/describe.ts (the CLI and the kubeconfig loader quote values the same way).
export { describeValue };

export function invalidValue(value: unknown, what: string, expected: string): string {
  if (value === undefined) return `missing; expected ${expected}`;
  return `${describeValue(value)} is not a valid ${what}; expected ${expected}`;
}

function errorMap(what: string, expected: string): z.ZodErrorMap {
  return (_issue, ctx) => ({ message: invalidValue(ctx.data, what, expected) });
}

// ---- field builders ---------------------------------------------------------------------------------

function patterned(what: string, expected: string, test: (s: string) => boolean) {
  return z
    .string({ errorMap: errorMap(what, expected) })
    .refine(test, (value) => ({ message: invalidValue(value, what, expected) }));
}

function int(what: string, min: number, max: number) {
  return z.number({ errorMap: errorMap(what, `an integer from ${min} to ${max}`) }).int().min(min).max(max);
}

function bool(what: string) {
  return z.boolean({ errorMap: errorMap(what, 'true or false') });
}

function strictObject<T extends z.ZodRawShape>(shape: T, what: string) {
  const known = Object.keys(shape).join(', ');
  return z
    .object(shape, {
      errorMap: (issue, ctx) => {
        if (issue.code === z.ZodIssueCode.unrecognized_keys) {
          const keys = issue.keys.map(describeValue).join(', ');
          const where = issue.path.length === 0 ? 'at the top level' : `in ${formatPath(issue.path)}`;
          return { message: `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys} ${where}; expected one of: ${known}` };
        }
        return { message: invalidValue(ctx.data, what, `a mapping with keys ${known}`) };
      },
    })
    .strict();
}

/** ["nodes", 2, "podCIDR"] -> "nodes[2].podCIDR" */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

const CIDR_EXPECTED = (example: string) => `a network such as ${example}`;

/**
 * One value, or a list of one or two (one per IP family, the first the primary, as Kubernetes takes
 * --cluster-cidr and spec.podCIDRs). Always resolves to a list; a bad item is named by its index only
 * when a list was written. Which families they are is checked in load.ts.
 */
function perFamily(what: string, expected: string, test: (s: string) => boolean) {
  return z.unknown().transform((v, ctx): string[] | undefined => {
    if (v === undefined) return undefined;
    const list = Array.isArray(v) ? (v as unknown[]) : [v];
    if (list.length < 1 || list.length > 2) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: invalidValue(v, `${what} list`, `one ${what} or a list of two, one per IP family (${expected})`) });
      return z.NEVER;
    }
    for (const [i, x] of list.entries()) {
      if (typeof x !== 'string' || !test(x)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: Array.isArray(v) ? [i] : [], message: invalidValue(x, what, expected) });
        return z.NEVER;
      }
    }
    return list as string[];
  });
}
const cidrs = (example: string) => perFamily('CIDR', CIDR_EXPECTED(example), (s) => parseCidr(s) !== undefined);

/**
 * A setting written once for every family or per family (`{ipv4: …, ipv6: …}`). The per-family mapping's
 * messages are made without this field's path, so they are given it. Which families may be keyed is
 * checked in load.ts, where podCIDR is known.
 */
function oneOrPerFamily<T>(one: z.ZodType<T>, byFamily: z.ZodType<{ ipv4?: T; ipv6?: T }>) {
  return z.unknown().transform((v, ctx): T | { ipv4?: T; ipv6?: T } | undefined => {
    if (v === undefined) return undefined;
    const r = typeof v === 'object' && v !== null && !Array.isArray(v) ? byFamily.safeParse(v) : one.safeParse(v);
    if (!r.success) {
      for (const issue of r.error.issues) ctx.addIssue({ ...issue, message: issue.message.replace(' at the top level;', ` in ${formatPath(ctx.path)};`) } as z.IssueData);
      return z.NEVER;
    }
    return r.data;
  });
}

/** A node mask size: one number (single-stack) or one per family (kube-controller-manager's --node-cidr-mask-size-ipv4/-ipv6). */
const maskSize = oneOrPerFamily(
  int('node mask size', 1, 128),
  strictObject({ ipv4: int('IPv4 node mask size', 1, 32).optional(), ipv6: int('IPv6 node mask size', 1, 128).optional() }, 'node mask size'),
);

const interfaceName = patterned(
  'interface name',
  '1-15 characters [A-Za-z0-9_.-] starting with a letter',
  (s) => INTERFACE_NAME_PATTERN.test(s),
);

// A purely numeric dotted name would pass the hostname pattern, but "999.1.1.1" is a typo'd IP, not a host.
function isHostname(s: string): boolean {
  return HOSTNAME_PATTERN.test(s) && !/^[0-9.]+$/.test(s) && !s.includes('..');
}

// A leading '-' could be read as an ssh option if a value ever lands in argv without a preceding flag.
const sshPath = (what: string) =>
  patterned(what, 'a path of characters [A-Za-z0-9_./~@+-] not starting with "-"', (s) => SSH_PATH_PATTERN.test(s) && !s.startsWith('-'));

// ---- schemas ----------------------------------------------------------------------------------------

export const sshSchema = strictObject(
  {
    user: patterned('ssh user', '1-32 characters [a-z0-9_-] starting with a lowercase letter or "_"', (s) => SSH_USER_PATTERN.test(s)).optional(),
    port: int('port', 1, 65535).optional(),
    identityFile: sshPath('identity file').optional(),
    // Operator-only: an ssh_config can run programs (ProxyCommand, Match exec) and choose which host keys
    // count, so it comes from the person running podnet (--ssh-config, PODNET_SSH_CONFIG), never a file.
    configFile: z
      .unknown()
      .superRefine((_v, ctx) =>
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: 'an ssh_config file is not accepted from an inventory (it can run programs and choose which host keys count); expected --ssh-config FILE or PODNET_SSH_CONFIG for your own file, or ~/.ssh/config',
        }),
      )
      .optional(),
    sudo: bool('sudo setting').optional(),
    options: z
      .array(
        patterned('ssh option', 'Name=value with a value of characters [A-Za-z0-9_./~@%:,+=-], e.g. ConnectTimeout=5', (s) =>
          SSH_OPTION_PATTERN.test(s),
        ).superRefine((s, ctx) => {
          const why = refuseSshOption(s);
          if (why !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${describeValue(s)}: ${why}` });
        }),
        { errorMap: errorMap('ssh option list', 'a list of Name=value strings') },
      )
      .optional(),
    connectTimeout: int('connect timeout (seconds)', 1, 300).optional(),
    commandTimeout: int('command timeout (seconds)', 1, 3600).optional(),
    // Trusting first-seen host keys is the operator's call for one run (--accept-new-host-keys), not a file's.
    acceptNewHostKeys: bool('acceptNewHostKeys setting')
      .refine((v) => v === false, { message: 'true is not accepted from an inventory (it would trust first-seen host keys for whoever runs it); expected the --accept-new-host-keys flag' })
      .optional(),
  },
  'ssh settings',
);

export const vxlanSchema = strictObject(
  {
    port: int('VXLAN port', 1, 65535).default(8472),
    vni: int('VXLAN VNI', 1, 16777215).default(1),
    device: interfaceName.default('podnet.1'),
  },
  'vxlan settings',
);

export const clusterSchema = strictObject(
  {
    podCIDR: cidrs('10.244.0.0/16').optional(),
    // The family-dependent bounds are checked in load.ts, where podCIDR is known.
    nodeMaskSize: maskSize.optional(),
    serviceCIDR: cidrs('10.96.0.0/12').optional(),
    mode: z.enum(MODES, { errorMap: errorMap('mode', MODES.join(', ')) }).default('auto'),
    vxlan: vxlanSchema.default({}),
    mtu: int('MTU', 576, 9000).optional(),
    cniBinDir: patterned(
      'CNI binary directory',
      'an absolute path of characters [A-Za-z0-9._/-] without ".."',
      (s) => CNI_BIN_DIR_PATTERN.test(s) && !s.includes('..'),
    ).optional(),
    bridge: interfaceName.default('cni0'),
    // true/false for every family, or per family; absent: IPv4 masqueraded, IPv6 not (see load.ts).
    masquerade: oneOrPerFamily(
      bool('masquerade setting'),
      strictObject({ ipv4: bool('IPv4 masquerade setting').optional(), ipv6: bool('IPv6 masquerade setting').optional() }, 'masquerade setting'),
    ).optional(),
  },
  'cluster settings',
);

export const nodeSchema = strictObject(
  {
    name: patterned(
      'node name',
      'a Kubernetes node name: lower-case DNS labels [a-z0-9-] joined by dots',
      (s) => NODE_NAME_PATTERN.test(s),
    ),
    address: patterned('address', 'an IP address or a hostname such as node-1.example.com', (s) => isIp(s) || isHostname(s)),
    ip: perFamily('IP address', 'an IPv4 or IPv6 address such as 192.0.2.11', isIp).optional(),
    podCIDR: cidrs('10.244.3.0/24').optional(),
    ssh: sshSchema.optional(),
  },
  'node',
);

export const inventorySchema = strictObject(
  {
    apiVersion: z.literal(API_VERSION, { errorMap: errorMap('apiVersion', API_VERSION) }).optional(),
    kind: z.literal(KIND, { errorMap: errorMap('kind', KIND) }).optional(),
    cluster: clusterSchema.default({}),
    ssh: sshSchema.default({}),
    // Settings of the access through the Kubernetes API (--access kube).
    kube: strictObject(
      {
        image: patterned('image', 'an image reference such as registry.example.com/python:3.13-alpine', (s) => IMAGE_PATTERN.test(s)).optional(),
        namespace: patterned('namespace', 'a namespace name: a DNS label of [a-z0-9-]', (s) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(s)).optional(),
      },
      'kube settings',
    ).optional(),
    nodes: z
      .array(nodeSchema, { errorMap: errorMap('node list', 'a list of at least one node (name, address)') })
      .min(1),
  },
  'inventory',
);

/** The file as validated by the schema, before cross-field checks and resolution. */
export type InventoryFile = z.output<typeof inventorySchema>;

// ---- resolved types ---------------------------------------------------------------------------------

/** SSH settings as written (top level or per node); absent keys inherit. */
export type SshSettings = z.output<typeof sshSchema>;

/** SSH settings for one node: per-node keys over top-level keys over defaults. */
export interface ResolvedSsh {
  user: string;
  port: number;
  identityFile?: string;
  configFile?: string;
  /** run remote commands through `sudo -n` (for a non-root user) */
  sudo: boolean;
  /** extra `-o Name=value` options; a per-node list replaces the top-level one */
  options: string[];
  /** seconds */
  connectTimeout: number;
  /** seconds */
  commandTimeout: number;
  acceptNewHostKeys: boolean;
}

export interface VxlanSettings {
  port: number;
  vni: number;
  device: string;
}

/** One IP family's pod network: its cluster CIDR, node mask size and service CIDR. */
export interface FamilyNetwork {
  family: IpFamily;
  /** normalized, e.g. "10.244.0.0/16" or "fd00:10:244::/56" */
  podCIDR: string;
  nodeMaskSize: number;
  serviceCIDR?: string;
  /** SNAT pod traffic of this family that leaves the cluster CIDR to the node's address */
  masquerade: boolean;
}

export interface ClusterSettings {
  /** the primary family's (the first listed), normalized, e.g. "10.244.0.0/16" */
  podCIDR: string;
  nodeMaskSize: number;
  serviceCIDR?: string;
  /** every family's network, the primary first (one for single-stack, two for dual-stack) */
  networks: FamilyNetwork[];
  mode: Mode;
  vxlan: VxlanSettings;
  mtu?: number;
  cniBinDir?: string;
  bridge: string;
  masquerade: boolean;
}

export interface InventoryNode {
  name: string;
  /** SSH target: an IP (normalized) or a hostname */
  address: string;
  /** the node IP peers route to, when given (normalized): the first one listed */
  ip?: string;
  /** every node IP given, by family (normalized) */
  ips: Partial<Record<IpFamily, string>>;
  /** the pinned pod CIDR of the primary family (normalized) */
  podCIDR?: string;
  /** every pinned pod CIDR, by family (normalized) */
  podCIDRs: Partial<Record<IpFamily, string>>;
  ssh: ResolvedSsh;
}

export interface Inventory {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  /** where the inventory came from (a path, or a label for in-memory text) */
  source: string;
  cluster: ClusterSettings;
  /** top-level SSH defaults as written */
  ssh: SshSettings;
  nodes: InventoryNode[];
  /** settings of the access through the Kubernetes API */
  kube?: { image?: string; namespace?: string };
  /** the nodes are some of the cluster's (picked with -l/--node): the others are peers this run does not read or change */
  partial?: boolean;
}
