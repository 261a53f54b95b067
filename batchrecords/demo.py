def seed_demo() -> None:
    return None
