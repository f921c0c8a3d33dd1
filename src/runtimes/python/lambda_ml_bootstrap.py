"""lambda-ml bootstrap: sideloaded deps, models fetched into /tmp, results merged into the object's S3 tags.

Put "import lambda_ml_bootstrap" as the first line of your handler module (docs/design.md §7; docs/handler.md,
"Python functions"). On a cold start it finds deps.zip (bundled next to this file, or in S3), checks its sha256 and
the free space in /tmp, extracts it into /tmp/lambda-ml/<sha256>/ through a temporary folder and an atomic rename
(a crash mid-extraction never leaves a folder that is used later; concurrent starts are safe), and puts that folder
first on sys.path. Then, in your handler:

    path = lambda_ml_bootstrap.model_path("nsfw", context)         # the model file, fetched into /tmp once
    lambda_ml_bootstrap.merge_tags(bucket, key, {"nsfw": "Neutral"})  # ml:nsfw=Neutral, the object's tags kept

Written by lambda-ml package; settings are in lambda-ml.runtime.json. Standard library only, plus boto3 (in the
Lambda Python runtime) for what lives in S3.
"""
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import unicodedata
import zipfile

__all__ = [
    "BootstrapError",
    "activate",
    "build_tags",
    "ensure_deps",
    "free_bytes",
    "merge_tag_sets",
    "merge_tags",
    "model_path",
    "models_hash",
    "sanitize_tag_key",
    "sanitize_tag_value",
]

_HERE = os.path.dirname(os.path.abspath(__file__))
_MARKER = ".lambda-ml-complete"
_STALE_SECONDS = 15 * 60  # Lambda's longest timeout: an unlocked temp older than this belongs to no live start
_DEADLINE_MARGIN_MS = 1000  # kept back for the invocation's own answer, as the Node handler does
_CHUNK = 1 << 20


class BootstrapError(RuntimeError):
    """A sideload, model or config failure with the fix in its message."""


_CONFIG = None
_CLIENT = None


def _config():
    global _CONFIG
    if _CONFIG is None:
        with open(os.path.join(_HERE, "lambda-ml.runtime.json")) as handle:
            _CONFIG = json.load(handle)
    return _CONFIG


def _tmp_root():
    return os.environ.get("LAMBDA_ML_TMP", "/tmp")


def _used_bytes(path):
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def free_bytes(path):
    """Free bytes under path; LAMBDA_ML_TMP_LIMIT_BYTES simulates a smaller /tmp (tests, invoke --local)."""
    free = shutil.disk_usage(path).free
    limit = os.environ.get("LAMBDA_ML_TMP_LIMIT_BYTES")
    if limit:
        free = min(free, max(0, int(limit) - _used_bytes(_tmp_root())))
    return free


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _clean_stale(root):
    """Removes what dead starts left: a working process holds an flock on <work>.lock, which the kernel drops when
    it dies (SIGKILL, a Lambda timeout), so a partial folder is reclaimed at once, not after an age."""
    now = time.time()
    names = os.listdir(root)
    for name in names:
        path = os.path.join(root, name)
        if name.startswith(".tmp-") and name.endswith(".lock"):
            try:
                fd = os.open(path, os.O_RDWR)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)  # its owner is alive and still working
                continue
            try:
                work = path[: -len(".lock")]
                shutil.rmtree(work, ignore_errors=True)
                for leftover in (work + ".zip", path):
                    if os.path.exists(leftover):
                        os.unlink(leftover)
            except OSError:
                pass
            finally:
                os.close(fd)
        elif name.startswith((".tmp-", ".dl-")) and _stem(name) + ".lock" not in names:
            try:
                if now - os.lstat(path).st_mtime > _STALE_SECONDS:
                    shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
            except OSError:
                pass


def _stem(name):
    return name[:-4] if name.endswith(".zip") else name


def _new_work(root, label):
    """A fresh temp folder and the flock that marks it as in use (lock file first, so it is never unowned)."""
    fd, lock = tempfile.mkstemp(prefix=".tmp-%s-" % label, suffix=".lock", dir=root)
    fcntl.flock(fd, fcntl.LOCK_EX)
    work = lock[: -len(".lock")]
    os.mkdir(work)
    return fd, work


def _release(fd, work):
    try:
        os.unlink(work + ".lock")
    except OSError:
        pass
    os.close(fd)


def _safe_target(base, name):
    if name.startswith("/") or name.startswith("\\") or ".." in name.replace("\\", "/").split("/"):
        raise BootstrapError(
            "deps.zip entry %r escapes the extraction folder; rebuild it with lambda-ml package" % name
        )
    return os.path.join(base, *name.rstrip("/").split("/"))


def _extract(zip_path, folder):
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            target = _safe_target(folder, info.filename)
            mode = info.external_attr >> 16
            if info.filename.endswith("/"):
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if stat.S_ISLNK(mode):
                link = archive.read(info).decode("utf-8")
                resolved = os.path.normpath(os.path.join(os.path.dirname(target), link))
                if os.path.isabs(link) or not resolved.startswith(folder + os.sep):
                    raise BootstrapError("deps.zip symlink %r escapes the extraction folder" % info.filename)
                os.symlink(link, target)
                continue
            with archive.open(info) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink, _CHUNK)
            if mode & 0o111:
                os.chmod(target, 0o755)


# ---- S3 ---------------------------------------------------------------------------------------------------------


def _s3_client():
    """One boto3 client per process. AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (path-style) are honoured here too, for
    boto3 releases older than 1.28.57 that do not read them (a local S3 such as s3rver, invoke --local)."""
    global _CLIENT
    if _CLIENT is None:
        import boto3  # in the Lambda Python runtime

        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            from botocore.config import Config

            _CLIENT = boto3.client("s3", endpoint_url=endpoint, config=Config(s3={"addressing_style": "path"}))
        else:
            _CLIENT = boto3.client("s3")
    return _CLIENT


def _parse_s3(url):
    if not url.startswith("s3://") or url[len("s3://") :].startswith("/") or len(url) == len("s3://"):
        raise BootstrapError("%r is not an s3://bucket/key location; run lambda-ml package again" % url)
    bucket, _, key = url[len("s3://") :].partition("/")
    return bucket, key


def _ms(seconds):
    return int(round(seconds * 1000))


def _copy_body(body, sink, expected, deadline, what):
    """Copies a streamed body into sink in 1 MiB chunks, hashing as it goes; returns (sha256 hex, bytes). With a
    deadline (time.monotonic() seconds) it fails fast once the download would not finish before it."""
    digest = hashlib.sha256()
    received = 0
    started = time.monotonic()
    while True:
        chunk = body.read(_CHUNK)
        if not chunk:
            break
        sink.write(chunk)
        digest.update(chunk)
        received += len(chunk)
        elapsed = time.monotonic() - started
        if deadline is not None and received < expected and elapsed > 0.1:
            eta = (expected - received) * elapsed / received
            if time.monotonic() + eta > deadline:
                raise BootstrapError(
                    "%s: the download would not finish in time (%d of %d bytes after %d ms, about %d ms to go, "
                    "%d ms left in this invocation); raise function.timeoutS, or bundle the model (\"bundle\": true)"
                    % (what, received, expected, _ms(elapsed), _ms(eta), _ms(deadline - time.monotonic()))
                )
    return digest.hexdigest(), received


def _download(url, destination, expected, deadline, what):
    """GETs url into destination; returns (sha256 hex, bytes)."""
    bucket, key = _parse_s3(url)
    try:
        body = _s3_client().get_object(Bucket=bucket, Key=key)["Body"]
    except Exception as error:  # botocore's ClientError, EndpointConnectionError, NoCredentialsError, ...
        code = getattr(error, "response", {}).get("Error", {}).get("Code") or type(error).__name__
        raise BootstrapError(
            "%s: cannot get %s (%s: %s); check the function role's s3:GetObject and that lambda-ml deploy uploaded it"
            % (what, url, code, error)
        ) from error
    try:
        with open(destination, "wb") as sink:
            result = _copy_body(body, sink, expected, deadline, what)
            sink.flush()
            os.fsync(sink.fileno())
        return result
    finally:
        body.close()


# ---- deps -------------------------------------------------------------------------------------------------------


def ensure_deps(config=None):
    """Extracts deps.zip once per sha256 and returns the folder; safe to call from concurrent processes."""
    config = config or _config()
    sideload = config.get("sideload")
    if not sideload:
        return None
    if sideload.get("format", "zip") != "zip":
        raise BootstrapError(
            "lambda-ml.runtime.json: deps archive format %r, the Python bootstrap reads zip only; "
            "package with this lambda-ml again" % sideload.get("format")
        )
    sha = sideload["sha256"]
    root = os.path.join(_tmp_root(), "lambda-ml")
    final = os.path.join(root, sha)
    if os.path.isfile(os.path.join(final, _MARKER)):
        return final
    os.makedirs(root, exist_ok=True)
    _clean_stale(root)
    zip_path = os.path.join(_HERE, sideload["zip"]) if sideload.get("zip") else None
    need = sideload["unzippedBytes"] + (0 if zip_path else sideload["zipBytes"])
    free = free_bytes(root)
    if free < need:
        raise BootstrapError(
            "/tmp has %d bytes free, deps need %d: raise the function's ephemeral storage "
            "(lambda-ml budget suggests the size)" % (free, need)
        )
    lock_fd, work = _new_work(root, sha[:12])
    downloaded = None
    try:
        if zip_path is None:
            downloaded = zip_path = work + ".zip"
            _download(sideload["s3"], downloaded, sideload["zipBytes"], None, "deps.zip")
        actual = _sha256(zip_path)
        if actual != sha:
            raise BootstrapError(
                "deps.zip sha256 is %s, expected %s: the artifact is corrupt or stale; "
                "run lambda-ml package and deploy again" % (actual, sha)
            )
        try:
            _extract(zip_path, work)
        except (zipfile.BadZipFile, zlib_error()) as error:
            raise BootstrapError("deps.zip is corrupt (%s): run lambda-ml package and deploy again" % error)
        open(os.path.join(work, _MARKER), "w").close()
        try:
            os.rename(work, final)
        except OSError:
            if not os.path.isfile(os.path.join(final, _MARKER)):
                raise
            shutil.rmtree(work, ignore_errors=True)  # another process finished first: use theirs
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        if downloaded and os.path.exists(downloaded):
            os.unlink(downloaded)
        _release(lock_fd, work)
    return final


def zlib_error():
    import zlib

    return zlib.error


# ---- models -----------------------------------------------------------------------------------------------------


def _model_spec(name):
    models = _config().get("models") or []
    for spec in models:
        if spec.get("name") == name:
            return spec
    known = ", ".join(repr(m.get("name")) for m in models) or "none"
    raise BootstrapError(
        "model %r is not in lambda-ml.runtime.json (configured: %s): add it to models[] in lambda-ml.config.json "
        "and run lambda-ml package again" % (name, known)
    )


def _utf16_order(text):
    return text.encode("utf-16-be")  # JavaScript's sort order: by UTF-16 code unit


def _model_dir_name(spec):
    """The model's folder under /tmp/lambda-ml/models/: its name plus a hash of its files' hashes, so a new version
    never reuses an old folder. The Node handler's modelCacheDir gives the same name."""
    lines = sorted(("%s:%s" % (f["name"], f["sha256"]) for f in spec["files"]), key=_utf16_order)
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]
    # As JavaScript's /[^\w.-]/g: ASCII word characters, one "_" per UTF-16 code unit of anything else.
    safe = "".join(
        ch if re.match(r"[\w.-]", ch, re.ASCII) else "_" * (2 if ord(ch) > 0xFFFF else 1) for ch in spec["name"]
    )
    return "%s-%s" % (safe, digest)


def _local_path(folder, spec):
    files = spec["files"]
    return os.path.join(folder, files[0]["name"]) if len(files) == 1 else folder


def _complete(folder, spec):
    """The cheap check of an earlier fetch: every file there with its size (each was sha256-checked before the
    folder was renamed into place, so only a truncation or a deletion since can make it fail)."""
    for item in spec["files"]:
        try:
            if os.stat(os.path.join(folder, item["name"])).st_size != item["bytes"]:
                return False
        except OSError:
            return False
    return True


def _deadline(context, what):
    """time.monotonic() by which the fetch must end, or None without a context; fails when no time is left."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    left = remaining() - _DEADLINE_MARGIN_MS
    if left <= 0:
        raise BootstrapError(
            "%s: only %d ms left in this invocation, not enough to download it; raise function.timeoutS"
            % (what, max(0, remaining()))
        )
    return time.monotonic() + left / 1000.0


def _lock(path, deadline, what):
    """An exclusive flock on path (the kernel drops it when its holder dies); waits at most until the deadline."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    started = time.monotonic()
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if deadline is None else fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                os.close(fd)
                raise
        if time.monotonic() >= deadline:
            os.close(fd)
            raise BootstrapError(
                "%s: another process has been fetching it for %d ms and this invocation has no time left to wait; "
                "raise function.timeoutS" % (what, _ms(time.monotonic() - started))
            )
        time.sleep(0.02)


def _discard(root, folder):
    """Moves a broken folder aside (so its path never shows a half-removed copy), then removes it."""
    trash = tempfile.mkdtemp(prefix=".tmp-discard-", dir=root)
    os.rename(folder, os.path.join(trash, "old"))
    shutil.rmtree(trash, ignore_errors=True)


def model_path(name, context=None):
    """The local path of a configured model: the file for a one-file model (a Keras .h5/.keras), else its folder.

    A bundled model is read from the task root. A model in S3 is fetched on first use into
    /tmp/lambda-ml/models/<name>-<hash>/: into a temp folder beside it, each file's sha256 checked against
    lambda-ml.runtime.json, then renamed into place, so the path never holds a partial or corrupt copy. Concurrent
    cold starts wait for one another (a lock the kernel drops if its holder dies), and the later one reuses the
    first one's copy; a temp folder left by a killed start is removed before free space is checked. Later calls
    (and later cold starts sharing /tmp) reuse it after checking its files' sizes. Pass the Lambda context to fail
    fast when the download would outlive the invocation.
    """
    spec = _model_spec(name)
    if spec.get("dir"):
        folder = spec["dir"] if os.path.isabs(spec["dir"]) else os.path.join(_HERE, spec["dir"])
        if not _complete(folder, spec):
            raise BootstrapError(
                "model %r: its bundled files are missing from %s; run lambda-ml package again" % (name, folder)
            )
        return _local_path(folder, spec)
    if not spec.get("s3"):
        raise BootstrapError(
            "model %r: lambda-ml.runtime.json gives neither dir nor s3; run lambda-ml package again" % name
        )
    root = os.path.join(_tmp_root(), "lambda-ml", "models")
    label = _model_dir_name(spec)
    final = os.path.join(root, label)
    if _complete(final, spec):
        return _local_path(final, spec)
    started = time.time()
    need = sum(item["bytes"] for item in spec["files"])
    what = "model %s (%d bytes from %s)" % (name, need, spec["s3"])
    deadline = _deadline(context, what)
    os.makedirs(root, exist_ok=True)
    lock_fd = _lock(final + ".lock", deadline, what)
    try:
        if _complete(final, spec):
            return _local_path(final, spec)  # fetched by the process we waited for
        if os.path.exists(final):
            _discard(root, final)  # an earlier copy that fails the size check
        _clean_stale(root)
        free = free_bytes(root)
        if free < need:
            raise BootstrapError(
                "/tmp has %d bytes free, model %s needs %d: raise the function's ephemeral storage "
                "(lambda-ml budget suggests the size)" % (free, name, need)
            )
        bucket, prefix = _parse_s3(spec["s3"])
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        work_fd, work = _new_work(root, label)
        try:
            for item in spec["files"]:
                url = "s3://%s/%s%s" % (bucket, prefix, item["name"])
                actual, size = _download(url, os.path.join(work, item["name"]), item["bytes"], deadline, what)
                # An empty sha256 is a model that only ever lived in S3: package could not hash it, so the size is
                # the check (as in the Node handler).
                if item["sha256"] == "" and size != item["bytes"]:
                    problem = "size mismatch (expected %d bytes, got %d)" % (item["bytes"], size)
                elif item["sha256"] != "" and actual != item["sha256"]:
                    problem = "sha256 mismatch (expected %s, got %s)" % (item["sha256"], actual)
                else:
                    continue
                raise BootstrapError("model %s: %s %s; run lambda-ml deploy again" % (name, url, problem))
            os.rename(work, final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        finally:
            _release(work_fd, work)
    finally:
        os.close(lock_fd)  # drops the flock; the lock file stays (removing it would race with a waiter)
    path = _local_path(final, spec)
    took = _ms(time.time() - started)
    print(json.dumps({"lambdaMl": "model", "name": name, "path": path, "bytes": need, "ms": took}))
    return path


def models_hash():
    """8 hex characters naming the configured models (the sha256 of their files' sha256s, sorted): the value the
    Node handler writes as <prefix>models and that lambda-ml backfill compares to skip current objects."""
    shas = sorted({item["sha256"].lower() for spec in _config().get("models") or [] for item in spec["files"]})
    return hashlib.sha256("\n".join(shas).encode("utf-8")).hexdigest()[:8]


# ---- tags: the Node handler's rules (src/handler/tags.ts), cases in test/cases/tag-merge.json -------------------

# https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html
# "letters (in UTF-8), numbers, and spaces representable in UTF-8, and the following characters: + - = . _ : / @"
S3_MAX_TAGS = 10
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
_PUNCTUATION = frozenset("+-=._:/@")
_LINE_SPACE = frozenset("\t\n\v\f\r\u2028\u2029\ufeff")  # with the Zs category: JavaScript's \s


def _is_space(ch):
    return ch in _LINE_SPACE or unicodedata.category(ch) == "Zs"


def _is_allowed(ch):
    return ch in _PUNCTUATION or _is_space(ch) or unicodedata.category(ch)[0] in "LN"


def _truncate_utf16(text, limit):
    """At most limit UTF-16 code units (S3 counts that way), never half a surrogate pair."""
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return text[:index]
    return text


def _clean(text):
    """Other characters become "_", whitespace runs one space, trimmed."""
    out = []
    for ch in text:
        if _is_space(ch):
            if not out or out[-1] != " ":
                out.append(" ")
        else:
            out.append(ch if _is_allowed(ch) else "_")
    return "".join(out).strip(" ")


def sanitize_tag_value(value):
    """A tag value within S3's character set and 256 UTF-16 units."""
    return _truncate_utf16(_clean(value), TAG_VALUE_MAX)


def sanitize_tag_key(key):
    """A tag key within S3's rules: sanitised like values, never empty, never starting with the reserved aws:."""
    cleaned = _clean(key)
    if re.match(r"aws:", cleaned, re.IGNORECASE | re.ASCII):
        cleaned = "_" + cleaned
    return _truncate_utf16(cleaned or "_", TAG_KEY_MAX)


def build_tags(tags, prefix):
    """Our tags from a dict (or a list of (name, value) pairs) in priority order: each name gets the prefix, keys
    and values are sanitised, and a key seen before is skipped."""
    pairs = tags.items() if hasattr(tags, "items") else tags
    out = []
    seen = set()
    for pair in pairs:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise TypeError("merge_tags: tags must be a dict or a list of (name, value) pairs, not %r" % (pair,))
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(
                "merge_tags: tag %r: names and values must be strings, not %s; format numbers first "
                "(e.g. \"%%.3f\" %% score)" % (name, type(value if isinstance(name, str) else name).__name__)
            )
        key = sanitize_tag_key(prefix + name)
        if key not in seen:
            seen.add(key)
            out.append({"Key": key, "Value": sanitize_tag_value(value)})
    return out


def merge_tag_sets(existing, ours, prefix, max_tags=S3_MAX_TAGS):
    """The set to write: every user tag (key not starting with prefix) untouched, our previous tags replaced, ours
    filling what is left of the 10 slots in priority order. A user's key that collides with one of ours (possible
    with an empty prefix) wins. Returns {"tags", "dropped" (ours that did not fit), "replaced" (our old keys)}."""

    def is_ours(key):
        return len(prefix) > 0 and key.startswith(prefix)

    our_keys = {t["Key"] for t in ours}
    user = [t for t in existing if not is_ours(t["Key"])]
    user_keys = {t["Key"] for t in user}
    candidates = [t for t in ours if t["Key"] not in user_keys]
    room = max(0, max_tags - len(user))
    kept = candidates[:room]
    dropped = [t for t in ours if t["Key"] in user_keys] + candidates[room:]
    kept_pairs = {(t["Key"], t["Value"]) for t in kept}
    replaced = [
        t["Key"]
        for t in existing
        if is_ours(t["Key"]) and not (t["Key"] in our_keys and (t["Key"], t["Value"]) in kept_pairs)
    ]
    return {"tags": user + kept, "dropped": dropped, "replaced": replaced}


def merge_tags(bucket, key, tags, version_id=None):
    """Writes our tags onto s3://bucket/key merged with the object's own (GetObjectTagging, then PutObjectTagging,
    which replaces the whole set): a user's tag is never dropped or overwritten. tags: {name: value} in priority
    order; names get the configured prefix (tags.prefix, "ml:"). Returns merge_tag_sets()'s result; what did not fit
    is logged. S3 errors are raised as boto3 raises them (a retry is the fix: tagging is idempotent)."""
    prefix = (_config().get("tags") or {}).get("prefix", "ml:")
    ours = build_tags(tags, prefix)
    client = _s3_client()
    version = {"VersionId": version_id} if version_id else {}
    response = client.get_object_tagging(Bucket=bucket, Key=key, **version)
    existing = [{"Key": t["Key"], "Value": t["Value"]} for t in response.get("TagSet", [])]
    merged = merge_tag_sets(existing, ours, prefix)
    client.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": merged["tags"]}, **version)
    if merged["dropped"]:
        dropped = [t["Key"] for t in merged["dropped"]]
        print(json.dumps({"lambdaMl": "tags", "bucket": bucket, "key": key, "dropped": dropped}))
    return merged


# ---- start ------------------------------------------------------------------------------------------------------


def activate():
    """Extracts (if needed) and puts the deps first on sys.path."""
    started = time.time()
    folder = ensure_deps()
    if folder and folder not in sys.path:
        sys.path.insert(0, folder)
    if folder:
        print(json.dumps({"lambdaMl": "sideload", "folder": folder, "ms": round((time.time() - started) * 1000)}))
    return folder


if os.environ.get("LAMBDA_ML_BOOTSTRAP_MANUAL") != "1":
    activate()
