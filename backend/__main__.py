from .cli import main

if __name__ == "__main__":  # not when a spawned process (ingestion preparers) imports it
    main()
