"""python -m ckatools.study: the study's command line (see ckatools.study.main)."""

from ckatools.study import main

main()
