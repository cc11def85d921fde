"""Appeal letter to the authority named by the case (work in progress)."""
