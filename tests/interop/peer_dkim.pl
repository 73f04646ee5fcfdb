#!/usr/bin/perl
# Mail::DKIM (libmail-dkim-perl: 1.20230212 on Debian 12, 1.20240923 on Debian 13) as the DKIM
# peer of dkim_interop.py: signs messages with Mail::DKIM::Signer and gives
# Mail::DKIM::Verifier's result per signature.
#
#     /usr/bin/perl peer_dkim.pl algorithms
#
# prints the a= values (RFC 6376 §3.3, RFC 8463) this Mail::DKIM can check, one per line, so
# the harness asks the peer instead of assuming its version.
#
#     /usr/bin/perl peer_dkim.pl sign JOBS
#
# JOBS has one tab-separated line per message:
# KEY DOMAIN SELECTOR METHOD ALGORITHM TIMESTAMP EXPIRATION HEADERS INPUT OUTPUT
# (EXPIRATION and HEADERS are "-" when not wanted; METHOD is Mail::DKIM's Method, e.g.
# "relaxed", "simple", "relaxed/simple"). OUTPUT is the DKIM-Signature field, in INPUT's
# line ending, followed by INPUT byte for byte. Prints "ok OUTPUT" or "error OUTPUT REASON".
#
#     /usr/bin/perl peer_dkim.pl verify ZONEFILE MESSAGE...
#
# prints one tab-separated line per DKIM-Signature, in header order:
#
#     MESSAGE  INDEX  DOMAIN  SELECTOR  B12  RESULT  DETAIL
#
# B12 is the first 12 characters of b=; RESULT is Mail::DKIM's (pass, fail, invalid,
# temperror). A message without signatures prints "MESSAGE - - - - none -". Strict => 1
# refuses rsa-sha1 (RFC 8301). DNS answers come from ZONEFILE through
# Net::DNS::Resolver::Mock; messages are fed with CRLF line ends.
use strict;
use warnings;

use Mail::DKIM::DNS;
use Mail::DKIM::Signature;
use Mail::DKIM::Signer;
use Mail::DKIM::TextWrap;    # folds the new field as a deployment would
use Mail::DKIM::Verifier;
use Net::DNS::Resolver::Mock;

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or die "$path: $!\n";
    local $/;
    my $data = <$fh>;
    close $fh;
    return $data;
}

sub sign_one {
    my ( $key, $domain, $selector, $method, $algorithm, $timestamp, $expiration, $headers, $raw ) = @_;
    my $eol    = $raw =~ /\r\n/ ? "\r\n" : "\n";
    my $signer = Mail::DKIM::Signer->new(
        Algorithm => $algorithm,
        Method    => $method,
        Domain    => $domain,
        Selector  => $selector,
        KeyFile   => $key,
        Timestamp => $timestamp,
        ( $expiration ne '-' ? ( Expiration => $expiration ) : () ),
        ( $headers ne '-'    ? ( Headers    => $headers )    : () ),
    );
    ( my $crlf = $raw ) =~ s/\r?\n/\r\n/g;
    $signer->PRINT($crlf);
    $signer->CLOSE;
    my $field = $signer->signature->as_string;
    $field =~ s/\r?\n/$eol/g;
    return $field . $eol . $raw;
}

binmode STDOUT, ':raw';
my $mode = shift @ARGV // '';

if ( $mode eq 'sign' && @ARGV == 1 ) {
    for my $line ( split /\n/, slurp( $ARGV[0] ) ) {
        my @job = split /\t/, $line;
        my ( $input, $output ) = @job[ 8, 9 ];
        my $signed = eval { sign_one( @job[ 0 .. 7 ], slurp($input) ) };
        if ( !defined $signed ) {
            ( my $why = $@ ) =~ s/\s+/ /g;
            print "error\t$output\t$why\n";
            next;
        }
        open my $out, '>:raw', $output or die "$output: $!\n";
        print {$out} $signed;
        close $out or die "$output: $!\n";
        print "ok\t$output\n";
    }
    exit 0;
}

if ( $mode eq 'algorithms' && !@ARGV ) {
    for my $algorithm (qw(rsa-sha1 rsa-sha256 ed25519-sha256)) {
        print "$algorithm\n" if Mail::DKIM::Signature->get_algorithm_class($algorithm);
    }
    exit 0;
}

die "usage: $0 algorithms | $0 sign JOBS | $0 verify ZONEFILE MESSAGE...\n" unless $mode eq 'verify' && @ARGV >= 2;
my ( $zone, @messages ) = @ARGV;
my $resolver = Net::DNS::Resolver::Mock->new();
$resolver->zonefile_read($zone);
Mail::DKIM::DNS::resolver($resolver);

for my $path (@messages) {
    ( my $data = slurp($path) ) =~ s/\r?\n/\r\n/g;
    my $dkim = Mail::DKIM::Verifier->new( Strict => 1 );
    $dkim->PRINT($data);
    $dkim->CLOSE;
    my @sigs = grep { $_->isa('Mail::DKIM::Signature') } $dkim->signatures;
    if ( !@sigs ) {
        print join( "\t", $path, '-', '-', '-', '-', 'none', '-' ), "\n";
        next;
    }
    my $index = 0;
    for my $sig (@sigs) {
        ( my $b = $sig->data // '' ) =~ s/\s+//g;
        my $detail = $sig->result_detail // '';
        $detail =~ s/\s+/ /g;
        print join( "\t", $path, $index++, lc( $sig->domain // '' ), $sig->selector // '',
            substr( $b, 0, 12 ), $sig->result // 'none', $detail ), "\n";
    }
}
