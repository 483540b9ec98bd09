"""Orders: the lifecycle table (fsm), client ids, reconciliation diff (pure) and, later, the
persist-then-send order manager (async shell)."""
