"""Tests of lambda_ml_bootstrap.py (docs/handler.md, "Python functions"), under python3 with boto3.

Always run: the tag rules from test/cases/tag-merge.json (the table the Node handler's tests read too) and the
download deadline. The S3 cases need a task root built by `lambda-ml package` and an S3 endpoint holding its model
and deps.zip: test/integration/python-bootstrap-s3.test.ts starts s3rver, packages a project, uploads, and passes
LAMBDA_ML_TEST_FIXTURE (a JSON file) plus AWS_ENDPOINT_URL_S3 and credentials. Without it they are skipped.

    python3 test/python/test_bootstrap.py [--json RESULTS.json]
"""
import builtins
import contextlib
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # never leave __pycache__ in src/ or in a task root
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TABLE_PATH = os.path.join(REPO, "test", "cases", "tag-merge.json")
FIXTURE = json.load(open(os.environ["LAMBDA_ML_TEST_FIXTURE"])) if os.environ.get("LAMBDA_ML_TEST_FIXTURE") else None
MB = 1_000_000

try:
    import boto3  # noqa: F401

    HAS_BOTO3 = True
except ImportError:
    HAS_BOTO3 = False


def load_bootstrap(folder):
    """Imports folder/lambda_ml_bootstrap.py without running its sideload (LAMBDA_ML_BOOTSTRAP_MANUAL=1)."""
    os.environ["LAMBDA_ML_BOOTSTRAP_MANUAL"] = "1"
    try:
        path = os.path.join(folder, "lambda_ml_bootstrap.py")
        spec = importlib.util.spec_from_file_location("lambda_ml_bootstrap_under_test", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        del os.environ["LAMBDA_ML_BOOTSTRAP_MANUAL"]


# The packaged copy when there is one (the bytes a function runs), else the repository's.
bootstrap = load_bootstrap(FIXTURE["task"] if FIXTURE else os.path.join(REPO, "src", "runtimes", "python"))


def text(value):
    """A table string: a string, or [text, times] pieces concatenated."""
    return value if isinstance(value, str) else "".join(piece * times for piece, times in value)


def tags_of(pairs):
    return [{"Key": key, "Value": value} for key, value in pairs]


def pairs_of(tags):
    return [[t["Key"], t["Value"]] for t in tags]


class TagTableTest(unittest.TestCase):
    """test/cases/tag-merge.json, row by row: the Node handler's rules (src/handler/tags.ts)."""

    @classmethod
    def setUpClass(cls):
        with open(TABLE_PATH, encoding="utf-8") as handle:
            cls.table = json.load(handle)

    def test_keys(self):
        self.assertGreaterEqual(len(self.table["keys"]), 10)
        for row in self.table["keys"]:
            with self.subTest(row["name"]):
                self.assertEqual(bootstrap.sanitize_tag_key(text(row["in"])), text(row["out"]))

    def test_values(self):
        self.assertGreaterEqual(len(self.table["values"]), 5)
        for row in self.table["values"]:
            with self.subTest(row["name"]):
                self.assertEqual(bootstrap.sanitize_tag_value(text(row["in"])), text(row["out"]))

    def test_merge(self):
        self.assertGreaterEqual(len(self.table["merge"]), 10)
        for row in self.table["merge"]:
            with self.subTest(row["name"]):
                merged = bootstrap.merge_tag_sets(tags_of(row["existing"]), tags_of(row["ours"]), row["prefix"])
                self.assertEqual(pairs_of(merged["tags"]), row["tags"])
                self.assertEqual(pairs_of(merged["dropped"]), row["dropped"])
                self.assertEqual(merged["replaced"], row["replaced"])
                self.assertLessEqual(len(merged["tags"]), 10)

    def test_inputs(self):
        self.assertGreaterEqual(len(self.table["inputs"]), 4)
        for row in self.table["inputs"]:
            with self.subTest(row["name"]):
                if "error" in row:
                    with self.assertRaises(getattr(builtins, row["error"])) as caught:
                        bootstrap.build_tags(row["tags"], row["prefix"])
                    self.assertEqual(type(caught.exception).__name__, row["error"])
                    self.assertIn(row["message"], str(caught.exception))
                else:
                    self.assertEqual(pairs_of(bootstrap.build_tags(row["tags"], row["prefix"])), row["ours"])


class SlowBody:
    """A streamed body that yields `chunk` bytes every `delay` seconds (a slow S3 GET)."""

    def __init__(self, total, chunk, delay):
        self.left, self.chunk, self.delay = total, chunk, delay

    def read(self, _size):
        if self.left <= 0:
            return b""
        time.sleep(self.delay)
        n = min(self.chunk, self.left)
        self.left -= n
        return b"x" * n


class DeadlineTest(unittest.TestCase):
    def test_a_download_that_would_pass_the_deadline_fails_fast(self):
        started = time.monotonic()
        with self.assertRaises(bootstrap.BootstrapError) as caught:
            # 10 MB at 64 KB per 20 ms (about 3 s) with 0.5 s left.
            bootstrap._copy_body(SlowBody(10 * MB, 65536, 0.02), io.BytesIO(), 10 * MB, started + 0.5, "model m")
        took = time.monotonic() - started
        self.assertLess(took, 0.5, "failed before the deadline, not at it")
        self.assertRegex(
            str(caught.exception),
            r"^model m: the download would not finish in time \(\d+ of 10000000 bytes after \d+ ms, about \d+ ms to "
            r"go, \d+ ms left in this invocation\); raise function\.timeoutS, or bundle the model",
        )

    def test_without_a_deadline_the_body_is_copied_and_hashed(self):
        sink = io.BytesIO()
        sha, size = bootstrap._copy_body(SlowBody(3 * 65536 + 5, 65536, 0), sink, 0, None, "model m")
        self.assertEqual(size, 3 * 65536 + 5)
        self.assertEqual(sha, hashlib.sha256(b"x" * size).hexdigest())
        self.assertEqual(sink.getvalue(), b"x" * size)

    def test_no_time_left_is_an_error_before_anything_starts(self):
        class Context:
            def get_remaining_time_in_millis(self):
                return 900

        with self.assertRaises(bootstrap.BootstrapError) as caught:
            bootstrap._deadline(Context(), "model m (5 bytes from s3://b/m/)")
        self.assertEqual(
            str(caught.exception),
            "model m (5 bytes from s3://b/m/): only 900 ms left in this invocation, not enough to download it; "
            "raise function.timeoutS",
        )
        self.assertIsNone(bootstrap._deadline(None, "x"), "no context, no deadline")


# A cold start in a child process, as Lambda runs it: import (sideloads deps from S3), then model_path.
PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
try:
    import lambda_ml_bootstrap as b
    import hello_dep
    print(json.dumps({"paths": [b.model_path(name) for name in sys.argv[2:]], "dep": hello_dep.VALUE}))
except Exception as error:
    print(json.dumps({"error": type(error).__name__, "message": str(error)}))
    sys.exit(3)
"""


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Context:
    """The part of the Lambda context the bootstrap reads."""

    def __init__(self, remaining_ms):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


@contextlib.contextmanager
def environ(**values):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@unittest.skipUnless(FIXTURE, "no S3 fixture: run test/integration/python-bootstrap-s3.test.ts (it starts s3rver)")
@unittest.skipUnless(HAS_BOTO3, "boto3 is not installed (Debian: apt-get install python3-boto3)")
class S3Test(unittest.TestCase):
    """Most cases run in this process (boto3 takes seconds to import on a busy machine); the races and the kill run
    real child processes."""

    @classmethod
    def setUpClass(cls):
        cls.task = FIXTURE["task"]
        with open(os.path.join(cls.task, "lambda-ml.runtime.json")) as handle:
            cls.runtime = json.load(handle)
        cls.spec = next(m for m in cls.runtime["models"] if m["name"] == FIXTURE["model"])
        cls.file = cls.spec["files"][0]
        cls.dir_name = bootstrap._model_dir_name(cls.spec)
        cls.scratch = tempfile.mkdtemp(prefix="lambda-ml-pytest-", dir=FIXTURE["scratch"])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.scratch, ignore_errors=True)

    def tmp(self):
        return tempfile.mkdtemp(dir=self.scratch)

    def variant(self, **model):
        """A copy of the task root whose model entry is changed, and the bootstrap loaded from it."""
        task = os.path.join(self.tmp(), "task")
        shutil.copytree(self.task, task)
        runtime = json.loads(json.dumps(self.runtime))
        next(m for m in runtime["models"] if m["name"] == FIXTURE["model"]).update(model)
        with open(os.path.join(task, "lambda-ml.runtime.json"), "w") as handle:
            json.dump(runtime, handle)
        module = load_bootstrap(task)
        module._CLIENT = bootstrap._s3_client()  # the same boto3 client: creating one takes seconds here
        return module

    def model_path(self, tmp, name=None, context=None, module=None, **env):
        """model_path in this process with LAMBDA_ML_TMP=tmp; returns (path or the error, its log lines)."""
        log = io.StringIO()
        with environ(LAMBDA_ML_TMP=tmp, **env), contextlib.redirect_stdout(log):
            try:
                result = (module or bootstrap).model_path(name or FIXTURE["model"], context)
            except Exception as error:  # asserted by the caller
                result = error
        return result, [json.loads(line) for line in log.getvalue().splitlines()]

    def start(self, tmp, *names, **env):
        return subprocess.Popen(
            [sys.executable, "-c", PROBE, self.task, *(names or (FIXTURE["model"],))],
            env={**os.environ, "LAMBDA_ML_TMP": tmp, "PYTHONDONTWRITEBYTECODE": "1", **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self, child):
        out, err = child.communicate(timeout=120)
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return child.returncode, (lines[-1] if lines else None), lines, err

    def models(self, tmp):
        return sorted(os.listdir(os.path.join(tmp, "lambda-ml", "models")))

    def final(self, tmp):
        return os.path.join(tmp, "lambda-ml", "models", self.dir_name, self.file["name"])

    def fetches(self, lines):
        return [line for line in lines if line.get("lambdaMl") == "model"]

    def assert_clean(self, tmp):
        """The final folder (verified) and the model's lock file; no temp folder left."""
        self.assertEqual(sha256_file(self.final(tmp)), self.file["sha256"])
        self.assertEqual(self.models(tmp), [self.dir_name, self.dir_name + ".lock"], "no temp left")

    def test_runtime_config_carries_the_model_as_for_node(self):
        self.assertEqual(self.spec["s3"], FIXTURE["modelS3"])
        self.assertIsNone(self.spec["dir"])
        self.assertEqual(self.file["sha256"], FIXTURE["modelSha256"])
        self.assertEqual(self.file["bytes"], FIXTURE["modelBytes"])
        self.assertEqual(self.spec["labels"], FIXTURE["labels"])
        # The same folder name and models hash as the Node handler computes from this config.
        self.assertEqual(self.dir_name, FIXTURE["nodeModelDir"])
        self.assertEqual(bootstrap.models_hash(), FIXTURE["nodeModelsHash"])

    def test_cold_start_fetches_the_model_once_then_reuses_it(self):
        tmp = self.tmp()
        path, lines = self.model_path(tmp, context=Context(60_000))
        self.assertEqual(path, self.final(tmp))
        self.assertEqual(len(self.fetches(lines)), 1)
        self.assert_clean(tmp)
        before = os.stat(path)
        again, lines = self.model_path(tmp)
        self.assertEqual(again, path)
        self.assertEqual(self.fetches(lines), [], "reused, not fetched again")
        after = os.stat(path)
        self.assertEqual((after.st_ino, after.st_mtime_ns), (before.st_ino, before.st_mtime_ns))

    def test_two_concurrent_cold_starts_fetch_once(self):
        tmp = self.tmp()
        a, b = self.start(tmp), self.start(tmp)
        (code_a, out_a, lines_a, err_a), (code_b, out_b, lines_b, err_b) = self.finish(a), self.finish(b)
        self.assertEqual(code_a, 0, "%s\n%s" % (out_a, err_a))
        self.assertEqual(code_b, 0, "%s\n%s" % (out_b, err_b))
        self.assertEqual(out_a, {"paths": [self.final(tmp)], "dep": 42}, "deps.zip fetched from S3 and importable")
        self.assertEqual(out_b, {"paths": [self.final(tmp)], "dep": 42})
        self.assertEqual(len(self.fetches(lines_a) + self.fetches(lines_b)), 1, "one fetched, the other reused it")
        self.assert_clean(tmp)

    def kill_mid_fetch(self, tmp):
        """Starts a cold start and SIGKILLs it once its temp folder holds part of the model; returns the temp."""
        models = os.path.join(tmp, "lambda-ml", "models")
        child = self.start(tmp)
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline and child.poll() is None:
                names = os.listdir(models) if os.path.isdir(models) else []
                for name in [n for n in names if n.startswith(".tmp-") and not n.endswith(".lock")]:
                    try:
                        size = os.stat(os.path.join(models, name, self.file["name"])).st_size
                    except OSError:
                        continue
                    if MB <= size < self.file["bytes"] // 2:
                        child.send_signal(signal.SIGKILL)
                        child.wait()
                        return name
                time.sleep(0.001)
            return None
        finally:
            if child.poll() is None:
                child.kill()
            child.communicate()

    def test_a_fetch_killed_mid_way_is_cleaned_by_the_next_start_even_with_tmp_tight(self):
        for _attempt in range(3):  # the kill must land mid-download; a run that finished first says nothing
            tmp = self.tmp()
            partial = self.kill_mid_fetch(tmp)
            if partial:
                break
        self.assertIsNotNone(partial, "never caught the download in progress")
        models = os.path.join(tmp, "lambda-ml", "models")
        self.assertFalse(os.path.exists(self.final(tmp)), "the killed process published nothing")
        self.assertTrue(os.path.isdir(os.path.join(models, partial)), "its partial download is left behind")
        # /tmp just large enough for the deps and one model: the dead temp must be removed, not counted.
        limit = self.runtime["sideload"]["unzippedBytes"] + self.file["bytes"] + 4096
        path, _lines = self.model_path(tmp, LAMBDA_ML_TMP_LIMIT_BYTES=str(limit))
        self.assertEqual(path, self.final(tmp))
        self.assert_clean(tmp)

    def test_a_corrupt_model_is_a_clear_error_and_leaves_nothing_at_the_final_path(self):
        module = self.variant(s3=FIXTURE["corruptS3"])
        tmp = self.tmp()
        error, _lines = self.model_path(tmp, module=module)
        self.assertIsInstance(error, module.BootstrapError)
        self.assertRegex(
            str(error),
            r"^model %s: %s%s sha256 mismatch \(expected %s, got [0-9a-f]{64}\); run lambda-ml deploy again$"
            % (FIXTURE["model"], re.escape(FIXTURE["corruptS3"]), re.escape(self.file["name"]), self.file["sha256"]),
        )
        self.assertFalse(os.path.exists(os.path.dirname(self.final(tmp))))
        self.assertEqual(self.models(tmp), [self.dir_name + ".lock"], "no temp folder left")

    def test_a_model_missing_from_s3_is_a_clear_error_with_the_s3_code(self):
        module = self.variant(s3="s3://models/missing/")
        tmp = self.tmp()
        error, _lines = self.model_path(tmp, module=module)
        self.assertIsInstance(error, module.BootstrapError)
        self.assertRegex(
            str(error),
            r"^model %s \(\d+ bytes from s3://models/missing/\): cannot get s3://models/missing/%s \(NoSuchKey: .+\); "
            r"check the function role's s3:GetObject and that lambda-ml deploy uploaded it$"
            % (FIXTURE["model"], re.escape(self.file["name"])),
        )
        self.assertEqual(self.models(tmp), [self.dir_name + ".lock"], "no temp folder left")

    def test_a_truncated_copy_fails_the_size_check_and_is_fetched_again(self):
        tmp = self.tmp()
        self.model_path(tmp)
        with open(self.final(tmp), "r+b") as handle:
            handle.truncate(self.file["bytes"] // 3)
        path, lines = self.model_path(tmp)
        self.assertEqual(path, self.final(tmp))
        self.assertEqual(len(self.fetches(lines)), 1)
        self.assert_clean(tmp)

    def test_too_little_tmp_is_an_error_naming_ephemeral_storage_before_any_download(self):
        tmp = self.tmp()
        error, _lines = self.model_path(tmp, LAMBDA_ML_TMP_LIMIT_BYTES=str(self.file["bytes"] - 1))
        self.assertIsInstance(error, bootstrap.BootstrapError)
        self.assertEqual(
            str(error),
            "/tmp has %d bytes free, model %s needs %d: raise the function's ephemeral storage "
            "(lambda-ml budget suggests the size)" % (self.file["bytes"] - 1, FIXTURE["model"], self.file["bytes"]),
        )
        self.assertEqual(self.models(tmp), [self.dir_name + ".lock"])

    def test_no_time_left_in_the_invocation_fails_fast(self):
        tmp = self.tmp()
        error, _lines = self.model_path(tmp, context=Context(800))
        self.assertIsInstance(error, bootstrap.BootstrapError)
        self.assertEqual(
            str(error),
            "model %s (%d bytes from %s): only 800 ms left in this invocation, not enough to download it; "
            "raise function.timeoutS" % (FIXTURE["model"], self.file["bytes"], self.spec["s3"]),
        )
        self.assertFalse(os.path.exists(os.path.join(tmp, "lambda-ml")))

    def test_an_unknown_model_names_the_configured_ones(self):
        error, _lines = self.model_path(self.tmp(), name="nope")
        self.assertEqual(
            str(error),
            "model 'nope' is not in lambda-ml.runtime.json (configured: %s): add it to models[] in "
            "lambda-ml.config.json and run lambda-ml package again"
            % ", ".join(repr(m["name"]) for m in self.runtime["models"]),
        )

    def test_merge_tags_against_s3_keeps_the_users_tags(self):
        row = FIXTURE["tagRow"]  # the table's row, with ours given as the handler passes them (no prefix)
        photo = FIXTURE["photo"]
        merged = bootstrap.merge_tags(photo["bucket"], photo["key"], [[k[len("ml:") :], v] for k, v in row["ours"]])
        self.assertEqual(pairs_of(merged["tags"]), row["tags"])
        self.assertEqual(merged["replaced"], row["replaced"])
        stored = bootstrap._s3_client().get_object_tagging(Bucket=photo["bucket"], Key=photo["key"])["TagSet"]
        self.assertEqual(sorted(pairs_of(stored)), sorted(row["tags"]), "what S3 holds now")
        for key, value in row["existing"]:
            if not key.startswith("ml:"):
                self.assertIn([key, value], pairs_of(stored), "user tag %s kept" % key)


class RecordingResult(unittest.TextTestResult):
    """Also keeps one outcome per test (subtest failures count against their test), for --json."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}

    def _set(self, test, outcome, detail=""):
        previous = self.outcomes.get(test.id())
        if previous and previous["outcome"] in ("fail", "error"):
            return
        self.outcomes[test.id()] = {"id": test.id(), "outcome": outcome, "detail": detail}

    def addSuccess(self, test):
        super().addSuccess(test)
        self._set(test, "pass")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._set(test, "fail", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._set(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._set(test, "skip", reason)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.outcomes[test.id()] = {
                "id": test.id(),
                "outcome": "fail",
                "detail": "%s: %s" % (subtest._subDescription(), self._exc_info_to_string(err, test)),
            }


def main(argv):
    out = argv[argv.index("--json") + 1] if "--json" in argv else None
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    runner = unittest.TextTestRunner(verbosity=2, resultclass=RecordingResult, stream=sys.stderr)
    result = runner.run(suite)
    if out:
        with open(out, "w") as handle:
            json.dump(list(result.outcomes.values()), handle, indent=2)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
