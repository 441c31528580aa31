/** Network managers on the node that claim CNI links or clean up routes they did not make. */
import { defineCheck } from '../types.js';

export const netManagers = defineCheck({
  findings: { 'nm-managed': { severity: 'warning', title: "NetworkManager or systemd-networkd can take the pod network's links or routes" } },
  needs: ['netmgr', 'links', 'bridgePorts'],
  run(n, _ctx, emit) {
    const { networkManager: nm, networkd } = n.facts.netmgr;
    if (nm) {
      const bridge = n.live?.bridge?.name;
      const ours = (dev: string) =>
        dev === bridge || n.facts.links.some((l) => l.ifname === dev && l.kind === 'vxlan') || n.facts.bridgePorts.some((p) => p.ifname === dev && p.master !== undefined && p.master === bridge);
      const managed = Object.entries(nm).filter(([dev, state]) => ours(dev) && !state.startsWith('unmanaged'));
      if (managed.length) {
        emit('nm-managed', `NetworkManager has the pod network's links in hand (${managed.map(([d]) => d).slice(0, 3).join(', ')}${managed.length > 3 ? ', …' : ''}): it can take the bridge's address or its routes away`, `nmcli device: ${managed.map(([d, st]) => `${d} ${st}`).slice(0, 5).join(', ')}`, `mark them unmanaged: printf '[keyfile]\\nunmanaged-devices=interface-name:${bridge ?? 'cni0'};interface-name:veth*;interface-name:podnet.*\\n' > /etc/NetworkManager/conf.d/99-podnet.conf && nmcli general reload`);
      }
    }
    if (networkd && !['no', 'false', '0', 'off'].includes(networkd.manageForeignRoutes ?? 'yes')) {
      emit('nm-managed', "systemd-networkd removes routes it did not configure when it starts or reconfigures a link: the routes to peers' pod CIDRs can vanish", `systemd-networkd is active; ManageForeignRoutes=${networkd.manageForeignRoutes ?? 'yes (default)'}`, "mkdir -p /etc/systemd/networkd.conf.d && printf '[Network]\\nManageForeignRoutes=no\\n' > /etc/systemd/networkd.conf.d/podnet.conf && systemctl restart systemd-networkd, then podnet up");
    }
  },
});

export const NETMGR = [netManagers] as const;
