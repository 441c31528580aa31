/**
 * The stand-in's container images: directories under the lab's images dir, built at `lab up --api` from
 * what the machine already has (busybox-static), never pulled from a registry. A pod's container gets a
 * copy-on-write view of its image as its root filesystem, so what a pod needs from its image is tested
 * apart from what the node has. An image reference the stand-in does not have fails to pull, as a
 * registry without it would.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';

export interface ImageDef {
  /** directory name under the images dir */
  name: string;
  /** the references that name it, normalized (docker.io/library/busybox:latest) */
  refs: string[];
  /** the image's CMD (its ENTRYPOINT is empty) */
  cmd: string[];
  env: string[];
  /** how it is built: a static busybox and a link per applet */
  build: 'busybox';
}

export const IMAGE_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const IMAGES: readonly ImageDef[] = [
  {
    name: 'busybox',
    refs: ['latest', '1.36', '1.36.1', '1.37', 'stable', 'musl', 'glibc'].map((t) => `docker.io/library/busybox:${t}`),
    cmd: ['sh'],
    env: [IMAGE_PATH],
    build: 'busybox',
  },
];

/** Where the static busybox comes from (Debian's busybox-static). */
export const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

/** "busybox" → "docker.io/library/busybox:latest", "ghcr.io/x/y" → "ghcr.io/x/y:latest" (as container runtimes read them). */
export function normalizeImageRef(ref: string): string {
  let r = ref.trim();
  const at = r.indexOf('@');
  const digest = at >= 0 ? r.slice(at) : '';
  if (at >= 0) r = r.slice(0, at);
  const first = r.split('/')[0]!;
  const hasRegistry = r.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) r = r.includes('/') ? `docker.io/${r}` : `docker.io/library/${r}`;
  const last = r.slice(r.lastIndexOf('/') + 1);
  if (!last.includes(':') && !digest) r = `${r}:latest`;
  return `${r}${digest}`;
}

export function findImage(ref: string, images: readonly ImageDef[] = IMAGES): ImageDef | undefined {
  const n = normalizeImageRef(ref);
  return images.find((i) => i.refs.includes(n));
}

/** What `kubectl describe` and the node's status list: each image's references, short form first. */
export function shortRefs(image: ImageDef): string[] {
  return image.refs.map((r) => r.replace(/^docker\.io\/library\//, ''));
}

/** The directories every image has (the busybox image's applets all live in /bin, as in the real one). */
export const IMAGE_DIRS = ['bin', 'etc', 'root', 'tmp', 'proc', 'sys', 'dev', 'var', 'home', 'usr/bin', 'usr/sbin', 'usr/local/bin'];

/**
 * Build every image under `imagesDir` from a static busybox and its applet list (`busybox --list`): plain
 * file operations, no process per applet.
 */
export function buildImages(imagesDir: string, busybox: string, applets: string[]): void {
  for (const img of IMAGES) {
    const d = `${imagesDir}/${img.name}`;
    for (const x of IMAGE_DIRS) mkdirSync(`${d}/${x}`, { recursive: true });
    copyFileSync(busybox, `${d}/bin/busybox`);
    chmodSync(`${d}/bin/busybox`, 0o755);
    for (const a of applets) if (/^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox' && !existsSync(`${d}/bin/${a}`)) symlinkSync('busybox', `${d}/bin/${a}`);
    writeFileSync(`${d}/etc/passwd`, 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
    writeFileSync(`${d}/etc/group`, 'root:x:0:\nnobody:x:65534:\n');
    chmodSync(`${d}/tmp`, 0o1777);
    chmodSync(`${d}/root`, 0o700);
  }
}

export interface ImageInfo {
  def: ImageDef;
  dir: string;
  /** sha256 over the image's files, as a digest reference would name it */
  digest: string;
  sizeBytes: number;
}

/** Read back the built images: their digests and sizes (for imageID and the node's status.images). */
export function loadImages(imagesDir: string): ImageInfo[] {
  const out: ImageInfo[] = [];
  for (const def of IMAGES) {
    const dir = `${imagesDir}/${def.name}`;
    if (!existsSync(dir)) continue;
    const hash = createHash('sha256');
    let size = 0;
    const walk = (d: string) => {
      for (const e of readdirSync(d).sort()) {
        const p = `${d}/${e}`;
        const st = lstatSync(p);
        hash.update(p.slice(dir.length));
        if (st.isDirectory()) walk(p);
        else if (st.isFile()) {
          const data = readFileSync(p);
          hash.update(data);
          size += data.length;
        }
      }
    };
    walk(dir);
    out.push({ def, dir, digest: `sha256:${hash.digest('hex')}`, sizeBytes: size });
  }
  return out;
}

/** True for an ELF executable without a program interpreter (statically linked). */
export function isStaticElf(file: string): boolean {
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch {
    return false;
  }
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return false; // 64-bit little-endian ELF only
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > b.length) return false;
    if (b.readUInt32LE(at) === 3) return false; // PT_INTERP
  }
  return true;
}
