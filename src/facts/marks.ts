/**
 * How podnet's own state is recognised on a node: the marks it leaves (route protocol, link alias, rule
 * comment) and the overlay's size. Shared by what reads nodes (facts, checks) and what changes them
 * (plan, render), so it lives at the bottom, with the facts.
 */

/** Routes podnet installs carry this protocol number, so it lists and removes exactly its own. */
export const ROUTE_PROTO = 157;
/** Link alias that marks a device as podnet's (the bridge and the overlay device). */
export const LINK_ALIAS = 'podnet';
/** iptables rules podnet installs carry this comment. */
export const RULE_COMMENT = 'podnet';
/** The file name of podnet's conflist, and its network name (host-local keeps state under that name). */
export const PODNET_CONFLIST = '10-podnet.conflist';
export const PODNET_NETWORK = 'podnet';
/** Container ids of probe pods start with this (their IPAM reservations carry it). */
export const PROBE_POD_PREFIX = 'pnp-';
