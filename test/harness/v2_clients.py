"""Sends V2 inference requests with NVIDIA's tritonclient (gRPC and HTTP), the client teams use,
for the router's integration tests (test/integration/router.tritonclient.test.ts).

Reads a JSON list of calls on stdin and prints a JSON list of results, one per call:
  {"protocol": "grpc" | "http", "url": "127.0.0.1:<port>", "model": "...",
   "inputs": [{"name", "datatype", "data": [...]}],   # each of shape [len(data)]
   "headers": {...}, "parameters": {...}, "timeout": <seconds, gRPC client_timeout>,
   "binary": <HTTP: binary tensors (the client's default) or JSON>, "outputs": ["name", ...]}
  -> {"ok": true, "ms": <the call's time>, "outputs": {"name": {"datatype", "shape", "data"}}}
   | {"ok": false, "ms": ..., "status": "<gRPC code or HTTP status>", "message": "..."}
Run by the environment tools/install-tritonclient.sh provisions.
"""
import json
import sys
import time

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

DTYPES = {"INT64": np.int64, "INT32": np.int32, "FP64": np.float64, "FP32": np.float32, "BOOL": np.bool_}


def array(spec):
    if spec["datatype"] == "BYTES":
        return np.array([str(v).encode() for v in spec["data"]], dtype=np.object_)
    return np.array(spec["data"], dtype=DTYPES[spec["datatype"]])


def call(c, clients):
    mod = grpcclient if c["protocol"] == "grpc" else httpclient
    key = (c["protocol"], c["url"])
    if key not in clients:
        clients[key] = mod.InferenceServerClient(url=c["url"])
    client = clients[key]
    inputs = []
    for spec in c["inputs"]:
        data = array(spec)
        i = mod.InferInput(spec["name"], list(data.shape), spec["datatype"])
        if c["protocol"] == "http":
            i.set_data_from_numpy(data, binary_data=c.get("binary", True))
        else:
            i.set_data_from_numpy(data)
        inputs.append(i)
    outputs = None
    if c.get("outputs"):
        if c["protocol"] == "http":
            outputs = [mod.InferRequestedOutput(n, binary_data=c.get("binary", True)) for n in c["outputs"]]
        else:
            outputs = [mod.InferRequestedOutput(n) for n in c["outputs"]]
    kwargs = {"headers": c.get("headers") or None, "parameters": c.get("parameters") or None}
    if c["protocol"] == "grpc" and c.get("timeout") is not None:
        kwargs["client_timeout"] = c["timeout"]
    try:
        result = client.infer(c["model"], inputs, outputs=outputs, **kwargs)
    except InferenceServerException as e:
        return {"ok": False, "status": str(e.status()), "message": e.message()}
    response = result.get_response(as_json=True) if c["protocol"] == "grpc" else result.get_response()
    out = {}
    for o in response["outputs"]:
        a = result.as_numpy(o["name"])
        data = [v.decode() if isinstance(v, bytes) else v for v in a.flatten().tolist()]
        out[o["name"]] = {"datatype": o["datatype"], "shape": list(a.shape), "data": data}
    return {"ok": True, "outputs": out}


def timed(c, clients):
    started = time.perf_counter()
    result = call(c, clients)
    result["ms"] = (time.perf_counter() - started) * 1000
    return result


def main():
    calls = json.load(sys.stdin)
    clients = {}
    print(json.dumps([timed(c, clients) for c in calls]))


if __name__ == "__main__":
    main()
