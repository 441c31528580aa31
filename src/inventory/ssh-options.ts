/**
 * Which `ssh -o Name=value` options an inventory may carry. An inventory is often generated or shared, so
 * it must not be able to make podnet run programs on the operator's machine or weaken host-key
 * verification; the user's own ssh_config (~/.ssh/config, or ssh.configFile) is theirs and is used as is,
 * except that podnet always asks ssh to verify host keys (see transport/ssh.ts). Options are allowed
 * by name (an allow-list, not a deny-list: OpenSSH grows new options that run things), and values of
 * the few options that name other hosts are checked too.
 */

/** Options an inventory may set, by lower-cased name → the name as OpenSSH documents it. */
const ALLOWED = [
  'AddressFamily',
  'BindAddress',
  'BindInterface',
  'CASignatureAlgorithms',
  'CertificateFile',
  'CheckHostIP',
  'Ciphers',
  'Compression',
  'ConnectionAttempts',
  'ConnectTimeout',
  'GSSAPIAuthentication',
  'HashKnownHosts',
  'HostbasedAcceptedAlgorithms',
  'HostKeyAlgorithms',
  'IdentitiesOnly',
  'IdentityAgent',
  'IdentityFile',
  'IPQoS',
  'KexAlgorithms',
  'MACs',
  'Port',
  'PreferredAuthentications',
  'ProxyJump',
  'PubkeyAcceptedAlgorithms',
  'PubkeyAcceptedKeyTypes',
  'PubkeyAuthentication',
  'RekeyLimit',
  'ServerAliveCountMax',
  'ServerAliveInterval',
  'TCPKeepAlive',
  'User',
] as const;

const ALLOWED_BY_KEY = new Map<string, string>(ALLOWED.map((n) => [n.toLowerCase(), n]));

/** Options refused with a specific reason: they run local programs, or weaken host-key verification. */
const RUNS_PROGRAMS = ['ProxyCommand', 'LocalCommand', 'PermitLocalCommand', 'KnownHostsCommand', 'RemoteCommand', 'PKCS11Provider', 'SecurityKeyProvider', 'Match', 'Include', 'ControlMaster', 'ControlPath', 'ControlPersist'];
const WEAKENS_HOST_KEYS = ['StrictHostKeyChecking', 'UserKnownHostsFile', 'GlobalKnownHostsFile', 'VerifyHostKeyDNS', 'UpdateHostKeys', 'NoHostAuthenticationForLocalhost', 'HostKeyAlias'];
const PODNET_OWNS = ['BatchMode', 'LogLevel', 'RequestTTY', 'SessionType', 'StdinNull', 'ForkAfterAuthentication', 'EscapeChar', 'HostName'];

function keys(names: string[]): Set<string> {
  return new Set(names.map((n) => n.toLowerCase()));
}
const RUNS = keys(RUNS_PROGRAMS);
const WEAKENS = keys(WEAKENS_HOST_KEYS);
const OWNS = keys(PODNET_OWNS);

export const ALLOWED_SSH_OPTIONS: readonly string[] = ALLOWED;

const SSH_CONFIG_HINT = 'for a legitimate need put it in your own ssh_config (ssh.configFile or ~/.ssh/config), which podnet uses as is';

// [user@]host[:port], a hostname or an IP literal (IPv6 in brackets), never starting with "-".
const JUMP_HOST = /^(?:[a-z_][a-z0-9_.-]{0,31}@)?(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * Why an inventory may not carry this `Name=value` option, as the end of a one-line message; undefined
 * when it may. The caller has already checked the Name=value shape.
 */
export function refuseSshOption(option: string): string | undefined {
  const eq = option.indexOf('=');
  const name = option.slice(0, eq);
  const value = option.slice(eq + 1);
  const key = name.toLowerCase();
  if (RUNS.has(key)) return `${name} can run programs on this machine and is not accepted from an inventory; ${SSH_CONFIG_HINT}`;
  if (WEAKENS.has(key)) return `${name} can weaken host-key verification and is not accepted from an inventory (podnet always verifies host keys; --accept-new-host-keys trusts first-seen keys only); ${SSH_CONFIG_HINT}`;
  if (OWNS.has(key)) {
    return key === 'hostname'
      ? 'HostName is not accepted here; expected the node\'s address in nodes[].address (or an alias from your ssh_config)'
      : `${name} is set by podnet itself (its sessions depend on it); expected none of: ${PODNET_OWNS.join(', ')}`;
  }
  if (!ALLOWED_BY_KEY.has(key)) return `${name} is not an ssh option podnet accepts from an inventory; expected one of: ${ALLOWED.join(', ')} (${SSH_CONFIG_HINT})`;
  if (key === 'proxyjump' && value.toLowerCase() !== 'none' && !value.split(',').every((h) => JUMP_HOST.test(h))) {
    return `ProxyJump value ${JSON.stringify(value)} is not a list of [user@]host[:port]; expected e.g. ProxyJump=admin@bastion.example.com:22`;
  }
  return undefined;
}
