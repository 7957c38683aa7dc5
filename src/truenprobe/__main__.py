from truenprobe.cli import main

main()
