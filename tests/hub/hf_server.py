"""A loopback stand-in for the Hugging Face Hub, for tests that run the real huggingface_hub client.

Two HTTP servers on 127.0.0.1 (port 0): the *hub* (API, resolve, commits, LFS batch) and a
*cdn* on another port, which huggingface_hub treats as a foreign host exactly like the
real Hub's storage: large (LFS) files redirect there, and the Authorization header must
never reach it. Repositories live in memory, so upload -> download round trips.

Endpoints served (what huggingface_hub 2.x calls; see FakeHub.requests for a log):
  GET  /api/models/{repo}[/revision/{rev}]        model info (sha, siblings, private)
  GET  /api/models/{repo}/tree/{rev}[/{path}]      file listing (oid, size, lfs)
  HEAD/GET /{repo}/resolve/{rev}/{path}            ETag, X-Repo-Commit, Content-Length;
                                                   LFS files 302 to the cdn with X-Linked-*
  GET  /api/agent-harnesses                        (an empty registry: the client asks once)
  POST /api/repos/create, /api/validate-yaml,
       /api/models/{repo}/preupload/{rev}, /api/models/{repo}/commit/{rev},
       /api/models/{repo}/branch/{branch}, /{repo}.git/info/lfs/objects/{batch,verify}
  cdn: HEAD/GET /lfs/{sha256}, PUT /upload/{sha256}
Xet is never advertised: no X-Xet-* headers, no xetHash in listings, no xet transfer in the
LFS batch answer.
"""
import base64
import dataclasses
import hashlib
import http.server
import json
import re
import threading
import urllib.parse

MAX_BODY = 256 << 20           # bytes; larger requests are refused (413)
MAX_CONNECTIONS = 32           # concurrent connections served per server
LFS_THRESHOLD = 10 << 20       # the Hub's rule: large files go to LFS ...
LFS_SUFFIXES = (".h5", ".safetensors", ".bin", ".pt", ".msgpack", ".onnx", ".npz")  # ... and these
GITATTRIBUTES = "".join(f"*{s} filter=lfs diff=lfs merge=lfs -text\n" for s in LFS_SUFFIXES).encode()
API_OPS = ("revision", "tree", "preupload", "commit", "branch")
_COMMIT = re.compile(r"[0-9a-f]{40}\Z")
_NOW = "2026-01-01T00:00:00.000Z"


def git_blob_oid(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256, size):
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclasses.dataclass(frozen=True)
class StoredFile:
    size: int
    oid: str                   # git blob oid (of the pointer file for LFS files)
    content: bytes = None      # regular files
    lfs_sha256: str = None     # LFS files (content in FakeHub.lfs)
    pointer_size: int = 0


@dataclasses.dataclass
class Repo:
    private: bool
    branches: dict
    commits: dict              # commit oid -> {path: StoredFile}
    messages: dict = dataclasses.field(default_factory=dict)


class FakeHub:
    """The in-memory hub and its two servers. ``with FakeHub() as hub: hub.endpoint``."""

    def __init__(self, tokens=("hf_zoo_test_write",)):
        self.tokens = set(tokens)
        self.repos = {}
        self.lfs = {}
        self.requests = []         # (server, method, path, authorized header present)
        self.unhandled = []        # requests no route answered
        self._lock = threading.Lock()
        self._counter = 0
        self.hub = _Server(self, "hub")
        self.cdn = _Server(self, "cdn")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.hub.server_address[1]}"

    @property
    def cdn_endpoint(self):
        return f"http://127.0.0.1:{self.cdn.server_address[1]}"

    def start(self):
        for server in (self.hub, self.cdn):
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                             daemon=True).start()
        return self

    def stop(self):
        for server in (self.hub, self.cdn):
            server.shutdown()
            server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- store ----------------------------------------------------------------------------
    def create_repo(self, repo_id, private=False):
        with self._lock:
            if repo_id in self.repos:
                return None
            repo = Repo(private=private, branches={}, commits={})
            self.repos[repo_id] = repo
            files = {".gitattributes": self._regular(GITATTRIBUTES)}
            repo.branches["main"] = self._new_commit(repo, None, files, "initial commit")
            return repo

    def add_files(self, repo_id, files, private=False, branch="main", message="add files"):
        """Seed a repo directly (no HTTP): {path: bytes}; returns the new commit oid."""
        if repo_id not in self.repos:
            self.create_repo(repo_id, private=private)
        repo = self.repos[repo_id]
        with self._lock:
            parent = repo.branches.get(branch) or repo.branches["main"]
            tree = dict(repo.commits[parent])
            for path, data in files.items():
                tree[path] = self._store(path, data)
            repo.branches[branch] = self._new_commit(repo, parent, tree, message)
            return repo.branches[branch]

    def file_bytes(self, repo_id, path, revision="main"):
        repo = self.repos[repo_id]
        stored = repo.commits[repo.branches.get(revision, revision)][path]
        return stored.content if stored.lfs_sha256 is None else self.lfs[stored.lfs_sha256]

    def _store(self, path, data):
        if len(data) >= LFS_THRESHOLD or path.endswith(LFS_SUFFIXES):
            sha = hashlib.sha256(data).hexdigest()
            self.lfs[sha] = bytes(data)
            return self._lfs(sha, len(data))
        return self._regular(data)

    @staticmethod
    def _regular(data):
        return StoredFile(size=len(data), oid=git_blob_oid(data), content=bytes(data))

    @staticmethod
    def _lfs(sha, size):
        pointer = lfs_pointer(sha, size)
        return StoredFile(size=size, oid=git_blob_oid(pointer), lfs_sha256=sha,
                          pointer_size=len(pointer))

    def _new_commit(self, repo, parent, tree, message):
        self._counter += 1
        digest = hashlib.sha1(json.dumps(
            [parent, message, self._counter, sorted((p, f.oid) for p, f in tree.items())]
        ).encode()).hexdigest()
        repo.commits[digest] = tree
        repo.messages[digest] = message
        return digest


class _Server(http.server.ThreadingHTTPServer):
    """Threaded, but bounded: at most MAX_CONNECTIONS handler threads at a time (further
    connections wait in the listen backlog), each idle-timed-out after _Handler.timeout."""
    daemon_threads = True

    def __init__(self, fake, role):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake, self.role = fake, role
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request, client_address):
        self._slots.acquire()
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class _HTTPError(Exception):
    def __init__(self, status, message, code=None, headers=None, body=None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}
        self.body = body or {}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a connection may sit idle

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    # -- plumbing ---------------------------------------------------------------------------
    def _dispatch(self, method):
        fake, role = self.server.fake, self.server.role
        url = urllib.parse.urlsplit(self.path)
        self.query = urllib.parse.parse_qs(url.query)
        self.segments = [urllib.parse.unquote(s) for s in url.path.split("/")[1:]]
        fake.requests.append((role, method, url.path, "Authorization" in self.headers))
        try:
            self.body = self._read_body()
            route = self._route_cdn if role == "cdn" else self._route_hub
            if route(method) is False:
                fake.unhandled.append((role, method, self.path))
                raise _HTTPError(404, f"no route for {method} {url.path}")
        except _HTTPError as e:
            headers = dict(e.headers)
            if e.code:
                headers["X-Error-Code"] = e.code
            headers["X-Error-Message"] = e.message
            self._send(e.status, {"error": e.message, **e.body}, headers, method=method)

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    raise _HTTPError(413, "request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            raise _HTTPError(413, "request body too large")
        return self.rfile.read(length) if length else b""

    def _send(self, status, payload=b"", headers=None, method="GET", content_type=None):
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload).encode()
            content_type = content_type or "application/json"
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(payload)))
        self.send_header("Content-Type", content_type or "application/octet-stream")
        self.end_headers()
        if method != "HEAD" and payload:
            self.wfile.write(payload)

    def _json(self):
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            raise _HTTPError(400, "body is not JSON") from None

    def _token_ok(self):
        auth = self.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[len("Bearer "):] in self.server.fake.tokens

    def _require_write(self):
        if not self._token_ok():
            raise _HTTPError(401, "Invalid credentials in Authorization header")

    def _repo(self, repo_id):
        repo = self.server.fake.repos.get(repo_id)
        if repo is None or (repo.private and not self._token_ok()):
            status = 404 if self._token_ok() else 401
            raise _HTTPError(status, f"Repository {repo_id} not found", "RepoNotFound")
        return repo

    @staticmethod
    def _commit(repo, revision):
        if revision in repo.branches:
            return repo.branches[revision]
        if _COMMIT.match(revision) and revision in repo.commits:
            return revision
        raise _HTTPError(404, f"Invalid rev id: {revision}", "RevisionNotFound")

    # -- hub routes -------------------------------------------------------------------------
    def _route_hub(self, method):
        s = self.segments
        if s[:2] == ["api", "repos"] and s[2:] == ["create"] and method == "POST":
            return self._create_repo()
        if s == ["api", "validate-yaml"] and method == "POST":
            return self._validate_yaml()
        if s == ["api", "agent-harnesses"] and method == "GET":  # the client's agent registry
            return self._send(200, {"standardEnvVars": [], "harnesses": {}})
        if s[:2] == ["api", "models"] and len(s) >= 3:
            if len(s) >= 5 and s[4] in API_OPS:
                repo_id, op, rest = "/".join(s[2:4]), s[4], s[5:]
            elif len(s) >= 4 and s[3] in API_OPS:
                repo_id, op, rest = s[2], s[3], s[4:]
            elif len(s) in (3, 4):
                repo_id, op, rest = "/".join(s[2:]), "info", []
            else:
                return False
            return self._api(method, repo_id, op, rest)
        for i in (1, 2):
            if len(s) > i + 2 and s[i] == "resolve" and method in ("GET", "HEAD"):
                return self._resolve(method, "/".join(s[:i]), s[i + 1], "/".join(s[i + 2:]))
        git = next((i for i, p in enumerate(s) if p.endswith(".git")), None)
        if git in (0, 1) and s[git + 1:git + 4] == ["info", "lfs", "objects"] and method == "POST":
            repo_id = "/".join(s[:git + 1])[:-len(".git")]
            return self._lfs(repo_id, s[git + 4:])
        return False

    def _api(self, method, repo_id, op, rest):
        if op == "info" and method == "GET":
            return self._info(repo_id, "main")
        if op == "revision" and method == "GET" and rest:
            return self._info(repo_id, "/".join(rest))
        if op == "tree" and method == "GET" and rest:
            return self._tree(repo_id, rest[0], "/".join(rest[1:]))
        if op == "preupload" and method == "POST" and rest:
            return self._preupload(repo_id, "/".join(rest))
        if op == "commit" and method == "POST" and rest:
            return self._commit_files(repo_id, "/".join(rest))
        if op == "branch" and method == "POST" and rest:
            return self._branch(repo_id, "/".join(rest))
        return False

    def _info(self, repo_id, revision):
        repo = self._repo(repo_id)
        commit = self._commit(repo, revision)
        files = repo.commits[commit]
        self._send(200, {
            "_id": repo_id, "id": repo_id, "modelId": repo_id, "sha": commit,
            "private": repo.private, "disabled": False, "gated": False, "tags": [],
            "downloads": 0, "likes": 0, "lastModified": _NOW, "createdAt": _NOW,
            "siblings": [{"rfilename": p} for p in sorted(files)]})

    def _tree(self, repo_id, revision, prefix):
        repo = self._repo(repo_id)
        files = repo.commits[self._commit(repo, revision)]
        recursive = self.query.get("recursive", ["False"])[0].lower() == "true"
        base = prefix.rstrip("/") + "/" if prefix else ""
        entries, folders = [], set()
        for path in sorted(files):
            if not path.startswith(base):
                continue
            tail = path[len(base):]
            if "/" in tail and not recursive:
                folders.add(base + tail.split("/")[0])
                continue
            stored = files[path]
            entry = {"type": "file", "oid": stored.oid, "size": stored.size, "path": path}
            if stored.lfs_sha256:
                entry["lfs"] = {"oid": stored.lfs_sha256, "size": stored.size,
                                "pointerSize": stored.pointer_size}
            entries.append(entry)
        entries += [{"type": "directory", "oid": git_blob_oid(f.encode()), "size": 0, "path": f}
                    for f in sorted(folders)]
        if base and not entries:
            raise _HTTPError(404, f"{prefix} does not exist", "EntryNotFound")
        self._send(200, entries)

    def _resolve(self, method, repo_id, revision, path):
        repo = self._repo(repo_id)
        commit = self._commit(repo, revision)
        stored = repo.commits[commit].get(path)
        if stored is None:
            raise _HTTPError(404, f"{path} does not exist", "EntryNotFound",
                             {"X-Repo-Commit": commit})
        headers = {"X-Repo-Commit": commit, "Accept-Ranges": "bytes"}
        if stored.lfs_sha256:
            headers.update({
                "Location": f"{self.server.fake.cdn_endpoint}/lfs/{stored.lfs_sha256}",
                "X-Linked-Etag": f'"{stored.lfs_sha256}"', "X-Linked-Size": stored.size,
                "ETag": f'"{stored.oid}"'})
            return self._send(302, b"", headers, method)
        headers["ETag"] = f'"{stored.oid}"'
        self._send_bytes(method, stored.content, headers)

    def _send_bytes(self, method, data, headers):
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(data) - 1
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return self._send(206, data[start:end + 1], headers, method)
        self._send(200, data, headers, method)

    # -- hub write routes -------------------------------------------------------------------
    def _create_repo(self):
        self._require_write()
        payload = self._json()
        name, org = payload.get("name"), payload.get("organization")
        if not name or payload.get("type", "model") != "model":
            raise _HTTPError(400, "only model repos with a name can be created")
        repo_id = f"{org}/{name}" if org else name
        private = payload.get("visibility") == "private" or payload.get("private") is True
        url = f"{self.server.fake.endpoint}/{repo_id}"
        if self.server.fake.create_repo(repo_id, private=private) is None:
            raise _HTTPError(409, "You already created this model repo", body={"url": url})
        self._send(200, {"url": url, "name": repo_id, "id": repo_id})

    def _validate_yaml(self):
        import yaml

        content = self._json().get("content", "")
        match = re.match(r"---\n(.*?)\n---\n", content, re.S)
        errors = []
        if match is None:
            errors.append({"message": "README.md has no YAML front matter"})
        else:
            try:
                meta = yaml.safe_load(match.group(1))
                if not isinstance(meta, dict):
                    errors.append({"message": "front matter is not a mapping"})
            except yaml.YAMLError as e:
                errors.append({"message": f"invalid YAML: {e}"})
        self._send(400 if errors else 200, {"errors": errors, "warnings": []})

    def _preupload(self, repo_id, revision):
        self._require_write()
        repo = self._repo(repo_id)
        current = repo.commits[self._commit(repo, revision)]
        answer = []
        for item in self._json().get("files", []):
            sample = base64.b64decode(item.get("sample", ""))
            path, size = item["path"], item["size"]
            lfs = size >= LFS_THRESHOLD or path.endswith(LFS_SUFFIXES) or b"\0" in sample
            entry = {"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False}
            stored = current.get(path)
            if stored is not None and bool(stored.lfs_sha256) == lfs:
                entry["oid"] = stored.lfs_sha256 or stored.oid
            answer.append(entry)
        self._send(200, {"files": answer, "commitOid": repo.branches.get(revision)})

    def _commit_files(self, repo_id, revision):
        self._require_write()
        if self.query.get("create_pr"):
            raise _HTTPError(400, "pull requests are not supported by this test hub")
        fake = self.server.fake
        repo = self._repo(repo_id)
        if revision not in repo.branches:
            raise _HTTPError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        lines = [json.loads(line) for line in self.body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise _HTTPError(400, "commit payload must start with a header line")
        header = lines[0]["value"]
        with fake._lock:
            parent = repo.branches[revision]
            if header.get("parentCommit") not in (None, parent):
                raise _HTTPError(412, "parent commit is not the head of the branch")
            tree = dict(repo.commits[parent])
            for line in lines[1:]:
                key, value = line["key"], line["value"]
                if key == "file":
                    tree[value["path"]] = fake._regular(base64.b64decode(value["content"]))
                elif key == "lfsFile":
                    data = fake.lfs.get(value["oid"])
                    if data is None or len(data) != value.get("size", len(data)):
                        raise _HTTPError(422, f"LFS object {value['oid']} was not uploaded")
                    tree[value["path"]] = fake._lfs(value["oid"], len(data))
                elif key == "deletedFile":
                    tree.pop(value["path"], None)
                elif key == "deletedFolder":
                    folder = value["path"].rstrip("/") + "/"
                    tree = {p: f for p, f in tree.items() if not p.startswith(folder)}
                else:
                    raise _HTTPError(400, f"unknown commit operation '{key}'")
            commit = fake._new_commit(repo, parent, tree, header.get("summary", ""))
            repo.branches[revision] = commit
        self._send(200, {"success": True, "commitOid": commit, "hookOutput": "",
                         "commitUrl": f"{fake.endpoint}/{repo_id}/commit/{commit}",
                         "pullRequestUrl": None})

    def _branch(self, repo_id, branch):
        self._require_write()
        repo = self._repo(repo_id)
        start = self._json().get("startingPoint") or "main"
        with self.server.fake._lock:
            if branch in repo.branches:
                raise _HTTPError(409, f"branch {branch} already exists")
            repo.branches[branch] = self._commit(repo, start)
        self._send(200, {})

    def _lfs(self, repo_id, rest):
        self._require_write()
        self._repo(repo_id)
        fake = self.server.fake
        payload = self._json()
        if rest == ["verify"]:
            data = fake.lfs.get(payload.get("oid"))
            if data is None or len(data) != payload.get("size"):
                raise _HTTPError(404, "object not uploaded")
            return self._send(200, {})
        if rest != ["batch"] or payload.get("operation") != "upload":
            return False
        objects = []
        for obj in payload.get("objects", []):
            answer = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if obj["oid"] not in fake.lfs:
                answer["actions"] = {
                    "upload": {"href": f"{fake.cdn_endpoint}/upload/{obj['oid']}"},
                    "verify": {"href": f"{fake.endpoint}/{repo_id}.git/info/lfs/objects/verify"}}
            objects.append(answer)
        self._send(200, {"transfer": "basic", "objects": objects}, {},
                   content_type="application/vnd.git-lfs+json")

    # -- cdn routes -------------------------------------------------------------------------
    def _route_cdn(self, method):
        s, fake = self.segments, self.server.fake
        if len(s) == 2 and s[0] == "lfs" and method in ("GET", "HEAD"):
            data = fake.lfs.get(s[1])
            if data is None:
                raise _HTTPError(404, "no such object")
            return self._send_bytes(method, data, {"ETag": f'"{s[1]}"', "Accept-Ranges": "bytes"})
        if len(s) == 2 and s[0] == "upload" and method == "PUT":
            if hashlib.sha256(self.body).hexdigest() != s[1]:
                raise _HTTPError(400, "uploaded content does not match its sha256")
            with fake._lock:
                fake.lfs[s[1]] = self.body
            return self._send(200, b"")
        return False
