/**
 * The program that runs on nodes during a probe: a small Python 3 program (a common interpreter on
 * nodes; nothing else is needed, not even ping) sent on stdin, never installed. It lives in echo.py next
 * to this file (linted with pyflakes by `npm run lint`; the build copies it into dist/).
 *
 * - `serve PORT TTL PIDFILE [WATCH SCRIPT [NETNS]]`: the echo service of a probe pod. Answers every
 *   TCP connection and UDP datagram with the source address it saw, so the sender can check for NAT.
 *   Both families: an IPv4 socket pair and an IPv6 one (IPV6_V6ONLY, so IPv4 senders are never seen as
 *   ::ffff:a.b.c.d); a UDP answer leaves from the address the datagram was sent to (IPV6_PKTINFO).
 *   Its sockets are opened in NETNS (the pod), the process stays in the node's namespace. Binds first,
 *   then detaches and prints "ready PID": the caller learns at once whether it started, without polling.
 *   One process, one thread, one selector. It is also the node's dead man's switch: once process WATCH
 *   (the SSH session's shell) is gone, or TTL seconds have passed, it runs SCRIPT (the probe's teardown)
 *   in its own place — if podnet is killed outright, the node removes the probe pod by itself.
 * - `batch FILE TIMEOUT [NETNS [WINDOW]]`: runs a node's whole list of probes from one process with one selector
 *   (no thread or process per probe): TCP and UDP through non-blocking sockets, ICMP echo and the
 *   don't-fragment path-MTU check through a raw ICMP socket. A probe's family is its target's (an IPv6
 *   target: AF_INET6 sockets, ICMPv6 echo on a raw ICMPv6 socket whose checksum the kernel computes, no
 *   fragmentation by IPV6_MTU_DISCOVER = IPV6_PMTUDISC_DO). Probe sizes are payload bytes, worked out by
 *   the caller from the family's header sizes. Probes marked "pod" open their sockets in the probe pod's
 *   network namespace (setns), the others in the node's own. ICMP errors (fragmentation needed, ICMPv6
 *   packet too big, unreachable) are matched to the probe that caused them and become its reason. What
 *   fails is tried once more: a datagram lost under load is not a broken network; a real fault fails
 *   twice. Prints one JSON line per probe.
 * - `tcp|udp HOST PORT TIMEOUT`: one probe from the command line (used by the tests' pods), either family.
 */
import { readFileSync } from 'node:fs';

/** The program's text, read once from echo.py beside this module (src/ under tsx, dist/ when built). */
export const ECHO_PY = readFileSync(new URL('./echo.py', import.meta.url), 'utf8');
