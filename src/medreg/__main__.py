from medreg.console import main

main()
