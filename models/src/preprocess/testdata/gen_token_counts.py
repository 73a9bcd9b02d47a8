# Writes onevision_token_counts.json: HF LlavaOnevisionProcessor._get_number_of_features for the
# real llava-onevision-*-ov-hf settings (384 px tiles, 729 tokens, default 36 pinpoints,
# anyres_max_9, strategy "full"), plus select_best_resolution, on awkward image sizes.
# Run: python gen_token_counts.py <this folder>   (needs transformers 4.57.x)
import json, sys, types
import numpy as np
import transformers
from transformers import LlavaOnevisionImageProcessor
from transformers.models.llava_onevision.processing_llava_onevision import LlavaOnevisionProcessor
from transformers.image_processing_utils import select_best_resolution

ip = LlavaOnevisionImageProcessor()  # defaults = the released checkpoints' preprocessor_config
proc = types.SimpleNamespace(image_processor=ip, num_image_tokens=729, vision_aspect_ratio="anyres_max_9")
proc._get_unpadded_features = types.MethodType(LlavaOnevisionProcessor._get_unpadded_features, proc)
rng = np.random.default_rng(4)
sizes = [(1, 1), (384, 384), (385, 384), (1024, 768), (768, 1024), (1920, 1080), (1080, 1920), (4000, 3000),
         (3000, 4000), (4032, 3024), (100, 4000), (4000, 100), (1, 5000), (5000, 1), (2304, 2304), (2305, 2303),
         (767, 1153), (1153, 767), (640, 480), (336, 336), (1280, 720), (500, 333), (333, 500)]
sizes += [(int(rng.integers(1, 6000)), int(rng.integers(1, 6000))) for _ in range(120)]
sizes += [(int(rng.integers(1, 800)), int(rng.integers(1, 800))) for _ in range(60)]
counts = []
for w, h in sizes:
    tokens = LlavaOnevisionProcessor._get_number_of_features(proc, h, w, 384, 384)
    bh, bw = select_best_resolution([h, w], ip.image_grid_pinpoints)
    counts.append({"width": w, "height": h, "image_tokens": tokens, "best_resolution_hw": [bh, bw]})
out = {"transformers_version": transformers.__version__, "num_image_tokens": 729, "size": 384,
       "vision_aspect_ratio": "anyres_max_9", "pinpoints": "LlavaOnevisionImageProcessor default (384*i, 384*j), i,j in 1..6",
       "counts": counts}
head = json.dumps({k: v for k, v in out.items() if k != "counts"}, indent=1)[:-2]
rows = ",\n".join("  " + json.dumps(c) for c in counts)
with open(f"{sys.argv[1]}/onevision_token_counts.json", "w") as f:
    f.write(head + ',\n "counts": [\n' + rows + "\n ]\n}\n")
print(len(counts))
