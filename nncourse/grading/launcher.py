"""Start an ipykernel for grading, with a memory limit (NNLIB_GRADING_MEMORY_MB, 0 = none).

    python -m nncourse.grading.launcher -f CONNECTION_FILE
"""
import os
import sys

if __name__ == "__main__":
    limit = int(os.environ.pop("NNLIB_GRADING_MEMORY_MB", "0") or 0)
    if limit > 0:
        try:
            import resource
            resource.setrlimit(resource.RLIMIT_AS, (limit << 20, limit << 20))
        except (ImportError, ValueError, OSError):
            pass
    from ipykernel import kernelapp
    sys.exit(kernelapp.launch_new_instance())
