fn main() {
    std::process::exit(regie::cli::main());
}
