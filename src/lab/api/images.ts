/**
 * The stand-in's container images: directories under the lab's images dir, built at `lab up --api` from
 * what the machine already has (busybox-static; Debian's python3 for the python image), never pulled
 * from a registry. A pod's container gets a copy-on-write view of its image as its root filesystem, so
 * what a pod needs from its image is tested apart from what the node has. An image reference the
 * stand-in does not have fails to pull, as a registry without it would.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, normalize } from 'node:path';

export interface ImageDef {
  /** directory name under the images dir */
  name: string;
  /** the references that name it, normalized (docker.io/library/busybox:latest) */
  refs: string[];
  /** the image's CMD (its ENTRYPOINT is empty) */
  cmd: string[];
  env: string[];
  /** how it is built: a static busybox and a link per applet; "python" adds the machine's python3 (PythonLayer); "python-only" is python3 and nothing else (no shell, as distroless images) */
  build: 'busybox' | 'python' | 'python-only';
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
  {
    // podnet's default helper image (src/kube/objects.ts) and its usual variants: what podnet needs from
    // them is python3 and /bin/sh, so that is what this one has (the machine's python3, not 3.13)
    name: 'python',
    refs: ['3.13-alpine', '3.13', '3-alpine', '3.12-alpine', '3.13-slim'].map((t) => `docker.io/library/python:${t}`),
    cmd: ['python3'],
    env: [IMAGE_PATH, 'LANG=C.UTF-8'],
    build: 'python',
  },
  {
    // python3 and nothing else, no shell (as the distroless images): all podnet's kube access needs
    name: 'python-distroless',
    refs: ['gcr.io/distroless/python3-debian12:latest', 'gcr.io/distroless/python3-debian12:nonroot', 'gcr.io/distroless/python3:latest'],
    cmd: ['python3'],
    env: [IMAGE_PATH, 'LANG=C.UTF-8'],
    build: 'python-only',
  },
];

/** The interpreter the python image is built from (Debian's python3, which scripts/setup.sh installs). */
export const PYTHON_CANDIDATES = ['/usr/bin/python3'];


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
 * The programs podnet runs with a helper pod's python3 (read at build time, so the image follows their
 * imports), and the modules they are known to need whatever their text says.
 */
export const PYTHON_PROGRAMS = [new URL('../../kube/helper.py', import.meta.url), new URL('../../probe/echo.py', import.meta.url)];
export const PYTHON_BASE_MODULES = ['json', 'selectors', 'socket', 'struct', 'errno', 'ctypes', 'os', 'sys', 'time'];

/** The top-level modules a Python program imports (`import a, b` and `from a import b`, at any indent). */
export function pythonImports(program: string): string[] {
  const out = new Set<string>();
  for (const m of program.matchAll(/^[ \t]*import[ \t]+([A-Za-z0-9_., \t]+?)[ \t]*(?:#.*)?$/gm)) {
    for (const part of m[1]!.split(',')) {
      const name = part.trim().split(/\s+as\s+/)[0]!.split('.')[0]!;
      if (/^[A-Za-z_]\w*$/.test(name)) out.add(name);
    }
  }
  for (const m of program.matchAll(/^[ \t]*from[ \t]+([A-Za-z_][\w]*)(?:\.[\w.]+)?[ \t]+import\b/gm)) out.add(m[1]!);
  return [...out].sort();
}

/** The modules the python image must have: the programs' imports and the base list. */
export function pythonImageModules(programs: readonly string[]): string[] {
  return [...new Set([...PYTHON_BASE_MODULES, ...programs.flatMap(pythonImports)])].sort();
}

/**
 * Run with `python3 -I -S -c SCRIPT MODULE…`: imports the modules and prints, as JSON, the interpreter
 * (its path and the file it resolves to) and every file the imports loaded — sources, their cached
 * bytecode and extension modules (lib-dynload) — plus os.py, the landmark by which the interpreter finds
 * its standard library, the lib-dynload directory, and the modules it does not have.
 */
export const PYTHON_PROBE = `import json, os, sys
missing = []
for name in sys.argv[1:]:
    try: __import__(name)
    except ImportError: missing.append(name)
files = set()
for mod in list(sys.modules.values()):
    for f in (getattr(mod, "__file__", None), getattr(mod, "__cached__", None)):
        if isinstance(f, str) and os.path.isfile(f): files.add(os.path.abspath(f))
stdlib = os.path.dirname(os.path.abspath(os.__file__))
files.add(os.path.join(stdlib, "os.py"))
print(json.dumps({"executable": sys.executable, "real": os.path.realpath(sys.executable), "stdlib": stdlib, "dynload": os.path.join(stdlib, "lib-dynload"), "files": sorted(files), "missing": missing}))
`;

export interface PythonProbe {
  executable: string;
  real: string;
  stdlib: string;
  dynload: string;
  files: string[];
  missing: string[];
}

/** The shared libraries in `ldd` output, by the path the loader looks them up at (the ELF interpreter too). */
export function parseLdd(out: string): string[] {
  const libs = new Set<string>();
  for (const raw of out.split('\n')) {
    const line = raw.trim();
    if (!line || line.endsWith(':') || /^(statically linked|not a dynamic executable)$/.test(line)) continue;
    const missing = /^(\S+) => not found$/.exec(line);
    if (missing) throw new Error(`ldd: ${missing[1]} not found`);
    const lib = /=> (\/\S+) \(0x[0-9a-f]+\)$/.exec(line)?.[1] ?? /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line)?.[1];
    if (lib) libs.add(lib);
  }
  return [...libs].sort();
}

/** What the python image adds to the busybox layer: files copied to the same path, and symlinks. */
export interface PythonLayer {
  /** absolute paths on the machine, copied (symlinks followed) to the same path in the image */
  files: string[];
  /** [path in the image, link target] */
  links: [string, string][];
  /** directories that must exist even if empty (lib-dynload: the interpreter's landmark for exec_prefix) */
  dirs: string[];
}

/** The layer from the probe's answer and the libraries ldd named for the interpreter and the extension modules. */
export function pythonLayer(probe: PythonProbe, libs: readonly string[]): PythonLayer {
  const files = new Set<string>([probe.real, ...probe.files, ...libs]);
  const links: [string, string][] = [];
  const link = (path: string) => {
    if (path === probe.real || !isAbsolute(path)) return;
    links.push([path, dirname(path) === dirname(probe.real) ? probe.real.slice(dirname(probe.real).length + 1) : probe.real]);
  };
  link(probe.executable);
  // python3 and python3.X both name the interpreter, whichever the machine's python3 points to
  const versioned = /^(.*\/python3)(\.\d+)?$/.exec(probe.real);
  if (versioned) for (const alias of [versioned[1]!, probe.real]) if (alias !== probe.executable) link(alias);
  for (const f of files) if (!isAbsolute(f) || normalize(f) !== f) throw new Error(`not an absolute path: ${f}`);
  return { files: [...files].sort(), links, dirs: [probe.dynload] };
}

/** The ELF files whose libraries the image needs: the interpreter and its extension modules. */
export function pythonElfFiles(probe: PythonProbe): string[] {
  return [probe.real, ...probe.files.filter((f) => f.endsWith('.so'))];
}

/** The busybox layer every image has: the static busybox, a link per applet, passwd and group. */
function buildBusyboxLayer(d: string, busybox: string, applets: string[]): void {
  for (const x of IMAGE_DIRS) mkdirSync(`${d}/${x}`, { recursive: true });
  copyFileSync(busybox, `${d}/bin/busybox`);
  chmodSync(`${d}/bin/busybox`, 0o755);
  for (const a of applets) if (/^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox' && !existsSync(`${d}/bin/${a}`)) symlinkSync('busybox', `${d}/bin/${a}`);
  writeFileSync(`${d}/etc/passwd`, 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  writeFileSync(`${d}/etc/group`, 'root:x:0:\nnobody:x:65534:\n');
  chmodSync(`${d}/tmp`, 0o1777);
  chmodSync(`${d}/root`, 0o700);
}

/** The directories, passwd and group of an image without busybox. */
function buildBareLayer(d: string): void {
  for (const x of IMAGE_DIRS) mkdirSync(`${d}/${x}`, { recursive: true });
  writeFileSync(`${d}/etc/passwd`, 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/home:/sbin/nologin\n');
  writeFileSync(`${d}/etc/group`, 'root:x:0:\nnobody:x:65534:\n');
  chmodSync(`${d}/tmp`, 0o1777);
  chmodSync(`${d}/root`, 0o700);
}

function buildPythonLayer(d: string, layer: PythonLayer): void {
  for (const x of layer.dirs) mkdirSync(`${d}${x}`, { recursive: true });
  for (const f of layer.files) {
    mkdirSync(`${d}${dirname(f)}`, { recursive: true });
    copyFileSync(f, `${d}${f}`);
  }
  for (const [path, target] of layer.links) {
    mkdirSync(`${d}${dirname(path)}`, { recursive: true });
    if (!existsSync(`${d}${path}`)) symlinkSync(target, `${d}${path}`);
  }
}

/**
 * Build every image under `imagesDir` from a static busybox and its applet list (`busybox --list`): plain
 * file operations, no process per applet. The python image also gets `python` (without it, that image
 * is not built, and pulling it fails as for any image the stand-in does not have).
 */
export function buildImages(imagesDir: string, busybox: string, applets: string[], python?: PythonLayer): void {
  for (const img of IMAGES) {
    if (img.build !== 'busybox' && !python) continue;
    const d = `${imagesDir}/${img.name}`;
    if (img.build === 'python-only') buildBareLayer(d);
    else buildBusyboxLayer(d, busybox, applets);
    if (img.build !== 'busybox') buildPythonLayer(d, python!);
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
