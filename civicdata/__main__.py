from civicdata.cli import main

raise SystemExit(main())
