mod keynames {
    bisslog::keynames!("metadata/missing.yml");
}

fn main() {}
