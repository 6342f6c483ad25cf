"""Start Rasa (``python lotse/rasa_launch.py run ...`` in Rasa's own venv) with one fix for speed.

Rasa checks every action server response against its JSON schema with ``jsonschema.validate``,
which first validates the *schema itself* against the JSON Schema meta-schema, on every call.
Profiling Rasa under load (py-spy, 20 sessions, README "Load and faults") put about half of its
CPU time there: the schema is Rasa's own constant, so checking it once is enough. Responses are
still validated, each one, exactly as before; only the repeated meta-schema check is cached.

Runs under the Rasa venv's Python (3.10), so it imports nothing from Lotse.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

_validators: dict[str, Any] = {}
_check_schema_and_validate = jsonschema.validate


def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
    """``jsonschema.validate`` with the schema checked (and its validator built) once per distinct schema."""
    try:
        key = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):
        _check_schema_and_validate(instance, schema, cls, *args, **kwargs)
        return
    validator = _validators.get(key)
    if validator is None:
        if cls is None:
            cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)  # as jsonschema.validate does, the first time
        validator = _validators[key] = cls(schema, *args, **kwargs)
    error = best_match(validator.iter_errors(instance))
    if error is not None:
        raise error


def main() -> int:
    jsonschema.validate = validate  # Rasa imports it at call time (rasa.core.actions.action)
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = re.sub(r"(-script\.pyw|\.exe)?$", "", sys.argv[0])
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
