from sipcheck.entry import main

main()
