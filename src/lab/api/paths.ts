/** Where a lab's stand-in API keeps its files: all inside the lab's tmpfs, gone with `lab down`. */
export interface ApiPaths {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  users: string;
  pid: string;
  ready: string;
  log: string;
  access: string;
  images: string;
}

export function apiPaths(labDir: string): ApiPaths {
  const dir = `${labDir}/api`;
  return {
    dir,
    caCert: `${dir}/ca.crt`,
    caKey: `${dir}/ca.key`,
    serverCert: `${dir}/apiserver.crt`,
    serverKey: `${dir}/apiserver.key`,
    users: `${dir}/users.json`,
    pid: `${dir}/pid`,
    ready: `${dir}/ready`,
    log: `${dir}/server.log`,
    access: `${dir}/access.log`,
    images: `${labDir}/images`,
  };
}

/** The kubeconfig lab up writes for the lab (next to the inventory). */
export function labKubeconfigPath(labDir: string): string {
  return `${labDir}/kubeconfig`;
}
