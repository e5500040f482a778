from .batch import main

raise SystemExit(main())
