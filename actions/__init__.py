"""Custom actions for Rasa (run by the rasa-sdk action server in the application environment).

Actions never write fixed texts themselves: they return message keys for the hub to render,
or knowledge answers that are already in the asker's language.
"""

import os

if os.environ.get("LOTSE_WARM_UP") == "1":
    # Load the encoder and the index before the server reports healthy, not on the first question.
    from knowledge.answer import get_answerer

    get_answerer()
