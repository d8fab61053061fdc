package dev.qwenimage.outbound;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/** Name resolution for outbound calls: the system's DNS, or a stand-in that tests control. */
@FunctionalInterface
public interface Resolver {
    /** The system resolver (DNS, /etc/hosts); literals resolve to themselves without a look-up. */
    Resolver SYSTEM = host -> List.of(InetAddress.getAllByName(host));

    /** Every address {@code host} resolves to now. */
    List<InetAddress> resolve(String host) throws UnknownHostException;
}
