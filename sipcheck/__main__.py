from sipcheck.cli.main import main

main()
