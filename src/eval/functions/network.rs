//! CIDR functions for IPv4 and IPv6: `cidrhost cidrnetmask cidrsubnet cidrsubnets`, with the
//! same address arithmetic as Terraform's (go-cidr).

use super::{CallContext, FunctionError, bad_arg, fail, int_arg, string_arg};
use infra_provider::Value;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

type R = Result<Value, FunctionError>;

/// A network prefix as an integer address of `width` bits and a prefix length.
#[derive(Clone, Copy)]
struct Prefix {
    address: u128,
    length: u32,
    width: u32,
}

impl Prefix {
    fn parse(text: &str, index: usize) -> Result<Prefix, FunctionError> {
        let invalid = || {
            bad_arg(
                index,
                format!(
                    "invalid CIDR expression: {text:?} is not an address with a prefix length, such as \"10.0.0.0/16\""
                ),
            )
        };
        let (address, length) = text.split_once('/').ok_or_else(invalid)?;
        let length: u32 = length.parse().map_err(|_| invalid())?;
        let (address, width) = match address.parse::<IpAddr>().map_err(|_| invalid())? {
            IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
            IpAddr::V6(v6) => (u128::from(v6), 128),
        };
        if length > width {
            return Err(invalid());
        }
        Ok(Prefix { address: address & mask(length, width), length, width })
    }

    fn host_bits(&self) -> u32 {
        self.width - self.length
    }

    fn last(&self) -> u128 {
        self.address | (!mask(self.length, self.width) & all_ones(self.width))
    }

    fn contains(&self, address: u128) -> bool {
        address & mask(self.length, self.width) == self.address
    }

    fn show(&self) -> String {
        format!("{}/{}", show_address(self.address, self.width), self.length)
    }
}

fn all_ones(width: u32) -> u128 {
    if width == 128 { u128::MAX } else { (1u128 << width) - 1 }
}

fn mask(length: u32, width: u32) -> u128 {
    if length == 0 { 0 } else { all_ones(width) & !(all_ones(width - length.min(width))) }
}

fn show_address(address: u128, width: u32) -> String {
    if width == 32 { Ipv4Addr::from(address as u32).to_string() } else { Ipv6Addr::from(address).to_string() }
}

pub fn cidrhost(args: Vec<Value>, _: &CallContext) -> R {
    let prefix = Prefix::parse(&string_arg(&args, 0)?, 0)?;
    let number = int_arg(&args, 1)?;
    let size: i128 = if prefix.host_bits() >= 127 { i128::MAX } else { 1i128 << prefix.host_bits() };
    let offset = if number < 0 { size + number as i128 } else { number as i128 };
    if offset < 0 || offset >= size {
        return Err(bad_arg(1, format!("prefix of {} does not accommodate a host numbered {number}", prefix.length)));
    }
    Ok(Value::String(show_address(prefix.address + offset as u128, prefix.width)))
}

pub fn cidrnetmask(args: Vec<Value>, _: &CallContext) -> R {
    let prefix = Prefix::parse(&string_arg(&args, 0)?, 0)?;
    if prefix.width != 32 {
        return Err(bad_arg(0, "IPv6 addresses cannot have a netmask"));
    }
    Ok(Value::String(show_address(mask(prefix.length, 32), 32)))
}

fn subnet(prefix: Prefix, newbits: i64, number: i64) -> Result<Prefix, String> {
    if newbits < 0 {
        return Err("newbits must not be negative".into());
    }
    let length = prefix.length as i64 + newbits;
    if length > prefix.width as i64 {
        return Err(format!("insufficient address space to extend prefix of {} by {newbits}", prefix.length));
    }
    let length = length as u32;
    let capacity: i128 = if newbits >= 127 { i128::MAX } else { 1i128 << newbits };
    if number < 0 || number as i128 >= capacity {
        return Err(format!("prefix extension of {newbits} does not accommodate a subnet numbered {number}"));
    }
    let shift = prefix.width - length;
    let address = prefix.address | if shift >= 128 { 0 } else { (number as u128) << shift };
    Ok(Prefix { address, length, width: prefix.width })
}

pub fn cidrsubnet(args: Vec<Value>, _: &CallContext) -> R {
    let prefix = Prefix::parse(&string_arg(&args, 0)?, 0)?;
    let newbits = int_arg(&args, 1)?;
    let number = int_arg(&args, 2)?;
    subnet(prefix, newbits, number).map(|p| Value::String(p.show())).map_err(fail)
}

/// Consecutive subnets of the given sizes, each aligned after the previous one (go-cidr's
/// `PreviousSubnet` / `NextSubnet` walk).
pub fn cidrsubnets(args: Vec<Value>, _: &CallContext) -> R {
    let network = Prefix::parse(&string_arg(&args, 0)?, 0)?;
    if args.len() == 1 {
        return Ok(Value::List(Vec::new()));
    }
    let mut lengths = Vec::new();
    for index in 1..args.len() {
        let newbits = int_arg(&args, index)?;
        let length = network.length as i64 + newbits;
        if newbits < 1 || length > network.width as i64 {
            return Err(bad_arg(
                index,
                format!(
                    "would extend prefix to {length} bits, which is too long for an IPv{} address",
                    if network.width == 32 { 4 } else { 6 }
                ),
            ));
        }
        lengths.push(length as u32);
    }
    let width = network.width;
    // The subnet just before the first one: PreviousSubnet(network, first length).
    let previous_address = network.address.wrapping_sub(1) & all_ones(width);
    let mut current = Prefix { address: previous_address & mask(lengths[0], width), length: lengths[0], width };
    let mut out = Vec::new();
    for (position, length) in lengths.iter().enumerate() {
        let aligned = Prefix { address: current.last() & mask(*length, width), length: *length, width };
        let next_address = aligned.last().wrapping_add(1) & all_ones(width);
        let next = Prefix { address: next_address & mask(*length, width), length: *length, width };
        if next_address == 0 || !network.contains(next.address) {
            return Err(bad_arg(
                position + 1,
                format!(
                    "not enough remaining address space for a subnet with a prefix of {length} bits after {}",
                    current.show()
                ),
            ));
        }
        current = next;
        out.push(Value::String(current.show()));
    }
    Ok(Value::List(out))
}
