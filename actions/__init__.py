"""Custom actions for Rasa (run by the rasa-sdk action server in the application environment).

Actions never write fixed texts themselves: they return message keys for the hub to render,
or knowledge answers that are already in the asker's language.
"""

import multiprocessing
import os

if os.environ.get("LOTSE_WARM_UP") == "1" and multiprocessing.parent_process() is not None:
    # Load the encoder and the index in Sanic's worker before it reports healthy, not on the first
    # question. Not in Sanic's main process: loading there fixes multiprocessing's start method
    # (tqdm creates a lock) before Sanic sets its own, and Sanic refuses to start.
    from knowledge.answer import get_answerer

    get_answerer()
