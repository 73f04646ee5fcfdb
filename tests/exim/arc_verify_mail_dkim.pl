#!/usr/bin/perl
# Mail::DKIM's ARC verdict (libmail-dkim-perl, Mail::DKIM::ARC::Verifier) for one message,
# fetching keys from the loopback DNS server of the Exim tests over the network (Net::DNS).
#
#     /usr/bin/perl arc_verify_mail_dkim.pl DNS_PORT < MESSAGE
#
# prints "RESULT<TAB>DETAIL" (RESULT: pass, fail, none, ...). The message is fed with CRLF
# line ends whatever the file uses.
use strict;
use warnings;

use Mail::DKIM::ARC::Verifier;
use Mail::DKIM::DNS;
use Net::DNS::Resolver;

die "usage: $0 DNS_PORT < MESSAGE\n" unless @ARGV == 1 && $ARGV[0] =~ /^\d+$/;
my $resolver = Net::DNS::Resolver->new(
    nameservers => ['127.0.0.1'],
    port        => $ARGV[0],
    recurse     => 0,
    retry       => 2,
    udp_timeout => 5,
    tcp_timeout => 5,
);
Mail::DKIM::DNS::resolver($resolver);

binmode STDIN, ':raw';
my $data = do { local $/; <STDIN> };
$data =~ s/\r?\n/\r\n/g;

my $arc = Mail::DKIM::ARC::Verifier->new( Strict => 1 );
$arc->PRINT($data);
$arc->CLOSE;
binmode STDOUT, ':raw';
print $arc->result, "\t", ( $arc->result_detail // '' ), "\n";
