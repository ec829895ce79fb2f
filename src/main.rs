fn main() {
    println!("adebox {}", adebox::version());
}
