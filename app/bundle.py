"""Update bundles (manual 7.10): what a Software update file is, how it is built and checked.

A bundle is an uncompressed POSIX tar holding exactly three files:

    manifest.json   {"format": 1, "product": "wsmeasure", "version": "0.2.0",
                     "compatible": "wsmeasure-appliance-amd64", "python": "3.11",
                     "created": "2025-01-01T10:00:00+00:00", "requirement": "wsmeasure==0.2.0",
                     "payload": {"name": "payload.tar", "size": 23456789, "sha256": "..."},
                     "wheels": ["wsmeasure-0.2.0-py3-none-any.whl", ...]}
    manifest.sig    the Ed25519 signature (64 bytes) of manifest.json's exact bytes
    payload.tar     the wheels: wsmeasure, every dependency, and pip itself

The signature covers the manifest, the manifest carries the payload's size and SHA-256: one
signature check and one hash prove the whole file. The payload installs offline into a fresh
virtualenv (update.py): `python3 -m venv --without-pip SLOT` then pip, run from its own wheel,
`install --no-index --find-links WHEELS wsmeasure==VERSION`; the box needs no pip, no ensurepip
and no network.

"compatible" names the boxes a bundle is for: the box's own string is in
ROOT/etc/wsmeasure/compatible (one line), else "wsmeasure-appliance-<arch>" from its machine
(amd64, arm64, armhf). "python" is the Python major.minor the wheels were built for (binary
wheels such as cryptography's are tied to it).

A box trusts the Ed25519 public keys in ROOT/etc/wsmeasure/update-keys/*.pub (PEM,
SubjectPublicKeyInfo: `openssl pkey -pubout` reads and writes them).

    python -m wsmeasure.bundle keygen --out release.key       # release.key (secret) + release.key.pub
    python -m wsmeasure.bundle build --key release.key --out wsmeasure-0.2.0-amd64.bundle
    python -m wsmeasure.bundle verify FILE --keys DIR_OR_PUB   # what the box checks, and the manifest

`build` makes the wsmeasure wheel from the source tree (`pip wheel` of a private copy, so the
tree gets no build/ folder) and takes the dependencies as wheels: by default the very
distributions installed in the running environment, packed back into wheels (offline; the
versions that were tested; the build machine's Python and architecture), or with --wheels DIR
the wheels found there (a cross build: `pip download --only-binary=:all: --platform
manylinux2014_aarch64 --python-version 3.11 -d DIR ...`, with --compatible and --python).
"""

from __future__ import annotations

import argparse
import base64
import configparser
import csv
import hashlib
import importlib.metadata
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import __version__
from .settings import ConfigError

PRODUCT = "wsmeasure"
FORMAT = 1
FIELD = "bundle"                 # the form field a refusal (ConfigError) names
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PAYLOAD = "payload.tar"
MEMBERS = (MANIFEST, SIGNATURE, PAYLOAD)
SUFFIX = ".bundle"

BUNDLE_MAX = 256 * 2 ** 20       # the whole file (the Software update page takes as much)
MANIFEST_MAX = 64 * 1024
SIGNATURE_SIZE = 64              # Ed25519
WHEELS_MAX = 300                 # files in the payload
CHUNK = 2 ** 20

KEYS_DIR = Path("etc/wsmeasure/update-keys")        # under the root
COMPATIBLE_FILE = Path("etc/wsmeasure/compatible")  # under the root
ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
          "armv7l": "armhf", "armv6l": "armhf", "armhf": "armhf", "i686": "i386", "i386": "i386"}

WHEEL_NAME = re.compile(r"^[A-Za-z0-9_.+-]+\.whl$")
# a subset of PEP 440: what a wsmeasure release is called (no epochs, no local versions)
VERSION = re.compile(r"^(\d+(?:\.\d+){0,3})(?:(a|b|rc)(\d+))?(?:\.post(\d+))?(?:\.dev(\d+))?$")
SKIPPED_INFO = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")   # made by the installer


# -- versions, compatibility, keys -------------------------------------------------------------
def version_key(version: str) -> tuple:
    """A sortable key: 1.0.dev1 < 1.0a1 < 1.0rc1 < 1.0 < 1.0.post1 < 1.0.1; ValueError if not a version."""
    m = VERSION.match(str(version))
    if not m:
        raise ValueError(f"not a version: {version!r}")
    release, pre, pre_n, post, dev = m.groups()
    numbers = tuple(int(n) for n in release.split("."))
    numbers += (0,) * (4 - len(numbers))
    if pre:
        pre_key = (0, "a b rc".split().index(pre), int(pre_n))
    elif dev is not None and post is None:
        pre_key = (-1,)   # 1.0.dev1 comes before 1.0a1
    else:
        pre_key = (1,)
    return (numbers, pre_key, -1 if post is None else int(post), float("inf") if dev is None else int(dev))


def arch_name(machine: str | None = None) -> str:
    machine = (machine or platform.machine()).lower()
    return ARCHES.get(machine, machine)


def default_compatible(machine: str | None = None) -> str:
    return f"{PRODUCT}-appliance-{arch_name(machine)}"


def box_compatible(root: Path = Path("/")) -> str:
    """The box's compatibility string: ROOT/etc/wsmeasure/compatible, else from the machine."""
    try:
        text = (Path(root) / COMPATIBLE_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        text = ""
    return text.splitlines()[0].strip() if text else default_compatible()


def python_tag() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def keygen(private: Path) -> tuple[Path, Path]:
    """A new Ed25519 pair: `private` (PKCS#8 PEM, mode 0600: keep it secret) and `private`.pub."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Path(private)
    public = private.with_name(private.name + ".pub")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def load_private_key(path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def read_public_keys(paths) -> list[tuple[str, object]]:
    """(file name, Ed25519PublicKey) of each readable Ed25519 key among `paths`; others are skipped."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    keys = []
    for path in sorted(paths):
        try:
            key = serialization.load_pem_public_key(Path(path).read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(key, Ed25519PublicKey):
            keys.append((Path(path).name, key))
    return keys


def trusted_keys(root: Path = Path("/")) -> list[tuple[str, object]]:
    """The keys the box trusts: ROOT/etc/wsmeasure/update-keys/*.pub."""
    return read_public_keys((Path(root) / KEYS_DIR).glob("*.pub"))


# -- checking a bundle ---------------------------------------------------------------------------
@dataclass
class Verified:
    """A bundle whose signature, manifest and payload were checked."""

    manifest: dict
    key: str                 # the file name of the trusted key that verified it
    wheels: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def compatible(self) -> str:
        return self.manifest["compatible"]


def _not_a_bundle() -> ConfigError:
    return ConfigError(FIELD, "the file is not a wsmeasure update bundle (a signed tar file with manifest.json, "
                              "manifest.sig and payload.tar)")


def mib(size: int) -> str:
    return f"{size / 2 ** 20:.1f} MiB"


def _members(archive: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    """The outer tar's members by name: only MEMBERS, regular files, once each (at most 4 read)."""
    found: dict[str, tarfile.TarInfo] = {}
    for count, info in enumerate(archive, 1):
        if count > len(MEMBERS) or info.name not in MEMBERS or info.name in found or not info.isreg():
            raise _not_a_bundle()
        found[info.name] = info
    return found


def _read(archive: tarfile.TarFile, info: tarfile.TarInfo, limit: int) -> bytes:
    if info.size > limit:
        raise _not_a_bundle()
    data = archive.extractfile(info).read(limit + 1)
    if len(data) != info.size:
        raise _not_a_bundle()
    return data


def _check_manifest(data: bytes) -> dict:
    """The signed manifest's fields; a refusal names the first one missing or wrong."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _not_a_bundle() from None
    if not isinstance(manifest, dict) or manifest.get("product") != PRODUCT:
        raise _not_a_bundle()
    payload = manifest.get("payload")
    checks = {
        "format": manifest.get("format") == FORMAT,
        "version": isinstance(manifest.get("version"), str) and bool(VERSION.match(manifest["version"])),
        "compatible": isinstance(manifest.get("compatible"), str) and bool(manifest["compatible"]),
        "python": isinstance(manifest.get("python"), str),
        "payload": isinstance(payload, dict) and payload.get("name") == PAYLOAD
        and isinstance(payload.get("size"), int) and not isinstance(payload.get("size"), bool)
        and 0 < payload["size"] <= BUNDLE_MAX
        and isinstance(payload.get("sha256"), str) and bool(re.fullmatch(r"[0-9a-f]{64}", payload["sha256"])),
    }
    for name, ok in checks.items():
        if not ok:
            raise ConfigError(FIELD, "the bundle's signed manifest has no valid {field}: it is refused", field=name)
    return manifest


def verify(path: Path, root: Path = Path("/"), *, installed: str = __version__, force: bool = False,
           work: Path | None = None, wheels: Path | None = None, keys=None,
           compatible: str | None = None) -> Verified:
    """Check the bundle at `path` for this box; ConfigError (field "bundle") says why not.

    In order: a readable file of at most BUNDLE_MAX, a tar of exactly our three members, a
    signature by a key of ROOT/etc/wsmeasure/update-keys (or `keys`), a manifest for wsmeasure,
    for this box's compatibility string and Python, newer than `installed` (unless `force`), and
    a payload of the manifest's size and SHA-256 holding wheels only, wsmeasure's among them.
    Temporary files go to `work` (default: the system's); with `wheels` (a new folder), the
    payload's wheels are written there for the installer."""
    path = Path(path)
    try:
        size = path.stat().st_size
        file = open(path, "rb")
    except OSError as exc:
        raise ConfigError(FIELD, "the update file cannot be read ({error})",
                          error=exc.strerror or str(exc)) from None
    with file:
        if size > BUNDLE_MAX:
            raise ConfigError(FIELD, "the update file is {size}; a bundle is at most {limit}", size=mib(size),
                              limit=mib(BUNDLE_MAX))
        try:
            archive = tarfile.open(fileobj=file, mode="r:")
        except (tarfile.TarError, OSError, EOFError):
            raise _not_a_bundle() from None
        with archive:
            try:
                members = _members(archive)
                if MANIFEST not in members or PAYLOAD not in members:
                    raise _not_a_bundle()
                if SIGNATURE not in members:
                    raise ConfigError(FIELD, "the bundle is not signed: it is refused")
                manifest_bytes = _read(archive, members[MANIFEST], MANIFEST_MAX)
                signature = _read(archive, members[SIGNATURE], SIGNATURE_SIZE)
            except (tarfile.TarError, OSError, EOFError):
                raise _not_a_bundle() from None
            key = _check_signature(manifest_bytes, signature, root, keys)
            manifest = _check_manifest(manifest_bytes)
            _check_box(manifest, compatible or box_compatible(root), installed, force)
            names = _check_payload(archive, members[PAYLOAD], manifest, work, wheels)
    return Verified(manifest, key, names)


def _check_signature(manifest: bytes, signature: bytes, root: Path, keys) -> str:
    from cryptography.exceptions import InvalidSignature

    keys = trusted_keys(root) if keys is None else keys
    if not keys:
        raise ConfigError(FIELD, "this box has no key to check update signatures (none in {folder}): "
                          "every bundle is refused", folder="/" + str(KEYS_DIR))
    if len(signature) == SIGNATURE_SIZE:
        for name, key in keys:
            try:
                key.verify(signature, manifest)
                return name
            except InvalidSignature:
                continue
    raise ConfigError(FIELD, "the bundle's signature does not match a key this box trusts: it is refused")


def _check_box(manifest: dict, box: str, installed: str, force: bool) -> None:
    if manifest["compatible"] != box:
        raise ConfigError(FIELD, "the bundle is for {compatible}; this box is {box}: it is refused",
                          compatible=manifest["compatible"], box=box)
    if manifest["python"] != python_tag():
        raise ConfigError(FIELD, "the bundle was built for Python {bundle}; this box runs Python {box}: "
                          "it is refused", bundle=manifest["python"], box=python_tag())
    if force:
        return
    new, old = version_key(manifest["version"]), version_key(installed)
    if new == old:
        raise ConfigError(FIELD, "version {version} is already installed", version=manifest["version"])
    if new < old:
        raise ConfigError(FIELD, "the bundle holds version {version}, older than the installed {installed}: "
                          "update only to a newer version", version=manifest["version"], installed=installed)


def _check_payload(archive: tarfile.TarFile, info: tarfile.TarInfo, manifest: dict, work: Path | None,
                   wheels: Path | None) -> list[str]:
    """The payload's size and hash against the manifest, then its wheels (written into `wheels`)."""
    expected = manifest["payload"]
    tampered = ConfigError(FIELD, "the bundle's payload does not match its signed manifest (damaged or altered): "
                                  "it is refused")
    if info.size != expected["size"]:
        raise tampered
    digest = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix="wsmeasure-bundle-", dir=work) as temp:
        copy = Path(temp) / PAYLOAD
        try:
            with archive.extractfile(info) as source, open(copy, "wb") as target:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    target.write(chunk)
        except (tarfile.TarError, EOFError):
            raise tampered from None
        if digest.hexdigest() != expected["sha256"]:
            raise tampered
        return _wheels(copy, manifest, wheels)


def _wheels(payload: Path, manifest: dict, target: Path | None) -> list[str]:
    """The payload's wheels (signed already: a refusal here means a broken build, not an attack)."""
    names = []
    wanted = re.compile(rf"^{PRODUCT}-{re.escape(manifest['version'])}-.+\.whl$")
    try:
        with tarfile.open(payload, "r:") as inner:
            if target is not None:
                target.mkdir(parents=True)
            for count, info in enumerate(inner, 1):
                name = info.name
                if count > WHEELS_MAX or not info.isreg() or not WHEEL_NAME.match(name) or name in names:
                    raise ConfigError(FIELD, "the bundle's payload holds something else than wheels: "
                                             "it is refused")
                names.append(name)
                if target is not None:
                    with inner.extractfile(info) as source, open(target / name, "xb") as out:
                        shutil.copyfileobj(source, out, CHUNK)
    except (tarfile.TarError, EOFError):
        raise ConfigError(FIELD, "the bundle's payload holds something else than wheels: it is refused") from None
    if not any(wanted.match(name) for name in names):
        raise ConfigError(FIELD, "the bundle's payload lacks the wheel of wsmeasure {version}: it is refused",
                          version=manifest["version"])
    return names


# -- building a bundle ---------------------------------------------------------------------------
def source_tree() -> Path | None:
    """The source checkout this package runs from (an editable install), if any."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "setup.cfg").is_file() and (root / "pyproject.toml").is_file() else None


def _copy_source(source: Path, target: Path, version: str | None) -> None:
    """What `pip wheel` needs of the tree: the project files and the package folders of setup.cfg."""
    cfg = configparser.ConfigParser()
    cfg.read(source / "setup.cfg")
    folders = [line.split("=", 1)[1].strip() for line in cfg.get("options", "package_dir", fallback="").splitlines()
               if "=" in line]
    target.mkdir(parents=True)
    for name in ("pyproject.toml", "setup.cfg", "setup.py", "README.md", "LICENSE", "MANIFEST.in"):
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
    for folder in dict.fromkeys(folders):
        shutil.copytree(source / folder, target / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    if version is not None:   # stamp the build: __version__ of the package folder named "wsmeasure = ..."
        dirs = dict(line.split("=", 1) for line in cfg.get("options", "package_dir").splitlines() if "=" in line)
        package = next(folder.strip() for name, folder in dirs.items() if name.strip() == PRODUCT)
        init = target / package / "__init__.py"
        text, count = re.subn(r'^__version__ = ".*"$', f'__version__ = "{version}"', init.read_text(), flags=re.M)
        if count != 1:
            raise ValueError(f"no __version__ line in {init}")
        init.write_text(text)


def build_wheel(source: Path, out: Path, version: str | None = None) -> Path:
    """The wsmeasure wheel of the source tree (a private copy, optionally stamped with `version`)."""
    with tempfile.TemporaryDirectory(prefix="wsmeasure-source-") as temp:
        copy = Path(temp) / "src"
        _copy_source(Path(source), copy, version)
        before = set(out.glob("*.whl"))
        result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
                                 "--quiet", "--wheel-dir", str(out), str(copy)],
                                capture_output=True, text=True, cwd=temp)
        if result.returncode:
            raise RuntimeError(f"pip wheel failed:\n{result.stdout}{result.stderr}")
    made = [p for p in set(out.glob(f"{PRODUCT}-*.whl")) - before]
    if len(made) != 1:
        raise RuntimeError(f"pip wheel made {len(made)} wsmeasure wheels in {out}")
    return made[0]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _marker_holds(marker: str) -> bool | None:
    """The environment marker evaluated here (packaging, or pip's copy of it); None if neither exists."""
    for module in ("packaging.markers", "pip._vendor.packaging.markers"):
        try:
            markers = __import__(module, fromlist=["Marker"])
        except ImportError:
            continue
        try:
            return markers.Marker(marker).evaluate()
        except Exception:  # noqa: BLE001 -- an odd marker: keep the dependency, pip decides on the box
            return None
    return None


def requirements_of(wheel: Path) -> list[str]:
    """The names of the distributions a wheel requires (Requires-Dist, extras left out)."""
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        text = archive.read(meta).decode("utf-8")
    return _names([line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Requires-Dist:")])


def _names(requirements) -> list[str]:
    names = []
    for req in requirements:
        spec, _, marker = req.partition(";")
        if "extra" in marker:
            continue
        if marker.strip() and _marker_holds(marker.strip()) is False:
            continue
        names.append(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec).group(1))
    return names


def installed_closure(names) -> list[importlib.metadata.Distribution]:
    """The installed distributions `names` need, transitively (those not installed here are left
    to pip: a marker that does not hold in this environment)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = todo.pop()
        if _canonical(name) in found:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        found[_canonical(name)] = dist
        todo += _names(dist.requires or [])
    return [found[k] for k in sorted(found)]


def _wheel_tag(wheel_meta: str) -> str:
    tags = [line.split(":", 1)[1].strip() for line in wheel_meta.splitlines() if line.startswith("Tag:")]
    if not tags:
        raise ValueError("no Tag in WHEEL")
    parts = [list(dict.fromkeys(t.split("-")[i] for t in tags)) for i in range(3)]
    return "-".join(".".join(p) for p in parts)


def repack(dist: importlib.metadata.Distribution, out: Path) -> Path:
    """An installed distribution back into a wheel: its files under site-packages as its RECORD
    lists them (scripts, which pip makes again from entry_points.txt, and data outside
    site-packages are left out, as are caches and the installer's own files)."""
    name, version = dist.metadata["Name"], dist.version
    wheel_meta = dist.read_text("WHEEL")
    if not wheel_meta or dist.files is None:
        raise RuntimeError(f"{name} {version} was not installed from a wheel (no WHEEL or RECORD): give --wheels DIR")
    info_dir = next(str(f).split("/")[0] for f in dist.files if str(f).split("/")[0].endswith(".dist-info"))
    target = Path(out) / f"{re.sub(r'[-_.]+', '_', name)}-{version}-{_wheel_tag(wheel_meta)}.whl"
    files = sorted({str(f) for f in dist.files if not str(f).startswith("..") and "__pycache__/" not in str(f)
                    and not str(f).endswith(".pyc")
                    and not (str(f).startswith(info_dir + "/") and str(f).split("/", 1)[1] in SKIPPED_INFO)},
                   key=lambda f: (f.startswith(info_dir + "/"), f))   # the .dist-info files last
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for rel in files:
            data = Path(dist.locate_file(rel)).read_bytes()
            archive.writestr(zipfile.ZipInfo(rel, (2020, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
            mode = Path(dist.locate_file(rel)).stat().st_mode
            archive.getinfo(rel).external_attr = (mode & 0o777 | 0o100000) << 16
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            writer.writerow([rel, f"sha256={digest}", len(data)])
        writer.writerow([f"{info_dir}/RECORD", "", ""])
        archive.writestr(zipfile.ZipInfo(f"{info_dir}/RECORD", (2020, 1, 1, 0, 0, 0)), record.getvalue(),
                         zipfile.ZIP_DEFLATED)
    return target


def _tar_add(archive: tarfile.TarFile, name: str, path: Path, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = path.stat().st_size, mtime, 0o644
    with open(path, "rb") as file:
        archive.addfile(info, file)


def build(key: Path, out: Path, *, source: Path | None = None, compatible: str | None = None,
          python: str | None = None, version: str | None = None, wheels: Path | None = None) -> Path:
    """Build and sign a bundle of the source tree; returns `out`. `version` stamps another version
    into the copy that is built (CI builds); `wheels` takes the dependencies (and pip) from a folder
    of wheels instead of the running environment."""
    signer = load_private_key(key)
    source = Path(source) if source else source_tree()
    if source is None:
        raise RuntimeError("no source tree: give --source DIR (a wsmeasure checkout)")
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="wsmeasure-build-") as temp:
        folder = Path(temp) / "wheels"
        folder.mkdir()
        own = build_wheel(source, folder, version)
        version = own.name.split("-")[1]
        version_key(version)   # a version the box can compare
        if wheels:
            for wheel in sorted(Path(wheels).glob("*.whl")):
                if not wheel.name.startswith(f"{PRODUCT}-"):
                    shutil.copy2(wheel, folder / wheel.name)
        else:
            for dist in installed_closure(requirements_of(own) + ["pip"]):
                repack(dist, folder)
        names = sorted(p.name for p in folder.iterdir())
        payload = Path(temp) / PAYLOAD
        created = datetime.now(timezone.utc).replace(microsecond=0)
        with tarfile.open(payload, "w", format=tarfile.PAX_FORMAT) as archive:
            for name in names:
                _tar_add(archive, name, folder / name, int(created.timestamp()))
        manifest = {"format": FORMAT, "product": PRODUCT, "version": version,
                    "compatible": compatible or default_compatible(), "python": python or python_tag(),
                    "created": created.isoformat(), "requirement": f"{PRODUCT}=={version}",
                    "payload": {"name": PAYLOAD, "size": payload.stat().st_size, "sha256": _sha256(payload)},
                    "wheels": names}
        manifest_bytes = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
        (Path(temp) / MANIFEST).write_bytes(manifest_bytes)
        (Path(temp) / SIGNATURE).write_bytes(signer.sign(manifest_bytes))
        partial = out.with_name(out.name + ".part")
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
            for name in MEMBERS:
                _tar_add(archive, name, Path(temp) / name, int(created.timestamp()))
        os.replace(partial, out)
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- command line ------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m wsmeasure.bundle", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("keygen", help="a new Ed25519 key pair: KEY (secret) and KEY.pub (for the boxes)")
    gen.add_argument("--out", type=Path, required=True, metavar="KEY")
    make = sub.add_parser("build", help="build and sign a bundle of the source tree")
    make.add_argument("--key", type=Path, required=True, help="the Ed25519 private key (PEM)")
    make.add_argument("--out", type=Path, help="the bundle (default: wsmeasure-VERSION-ARCH.bundle here)")
    make.add_argument("--source", type=Path, help="the wsmeasure source tree (default: this checkout)")
    make.add_argument("--compatible", help=f"the boxes it is for (default: {default_compatible()})")
    make.add_argument("--python", help=f"the Python major.minor of the wheels (default: {python_tag()})")
    make.add_argument("--set-version", dest="version", help="stamp this version into the build (default: the source's)")
    make.add_argument("--wheels", type=Path, help="take the dependencies and pip from this folder of wheels")
    check = sub.add_parser("verify", help="check a bundle as a box would (signature, payload) and print its manifest")
    check.add_argument("file", type=Path)
    check.add_argument("--keys", type=Path, required=True, help="a public key (.pub) or a folder of them")
    check.add_argument("--compatible", help=f"the box's compatibility string (default: {default_compatible()})")
    args = p.parse_args(argv)
    if args.command == "keygen":
        private, public = keygen(args.out)
        print(f"{private} (secret: never commit it)\n{public} (copy into /etc/wsmeasure/update-keys/ of the boxes)")
        return 0
    if args.command == "build":
        out = args.out or Path(f"{PRODUCT}-{args.version or __version__}-"
                               f"{(args.compatible or default_compatible()).rsplit('-', 1)[-1]}{SUFFIX}")
        path = build(args.key, out, source=args.source, compatible=args.compatible, python=args.python,
                     version=args.version, wheels=args.wheels)
        print(f"{path}: {path.stat().st_size} bytes")
        return 0
    keys = read_public_keys(sorted(args.keys.glob("*.pub")) if args.keys.is_dir() else [args.keys])
    try:
        verified = verify(args.file, keys=keys, force=True, compatible=args.compatible or default_compatible())
    except ConfigError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"key": verified.key, **verified.manifest}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
