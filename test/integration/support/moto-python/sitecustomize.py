"""Loaded at start by the Python of the lifecycle harness's moto server (moto-python.ts puts this
directory on its PYTHONPATH): JSON templates are parsed as JSON, as CloudFormation itself does.

moto's CloudFormation parses every template body with PyYAML's pure-Python loader first
(moto/cloudformation/models.py `parse_template`, `FakeChangeSet._parse_template`,
responses.py `get_template_summary`/`validate_template`; `yaml.load(text, Loader=yaml.Loader)`,
JSON only when YAML fails): 0.1-0.3 s of CPU per tier blueprint, about half of what moto spends
on a whole onboarding. A JSON document parses to the same value either way (JSON is YAML's flow
style); json.loads takes a millisecond. Only that call is changed: `yaml.load` with
`yaml.Loader` on a string that starts with `{`; text json cannot read (YAML, tags, anything else)
goes to PyYAML as before. No other module of moto calls yaml.load (the others use safe_load).
"""
import json

import yaml

_yaml_load = yaml.load


def _load(stream, Loader=None, **kwargs):
    if Loader is yaml.Loader and isinstance(stream, str) and stream.lstrip()[:1] == "{":
        try:
            return json.loads(stream)
        except ValueError:
            pass
    return _yaml_load(stream, Loader=Loader, **kwargs)


yaml.load = _load
