import sys

from job.report import main

sys.exit(main(sys.argv[1:]))
