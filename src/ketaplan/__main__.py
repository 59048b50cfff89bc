from ketaplan.cli import main

raise SystemExit(main())
