#!/usr/bin/perl
# Mail::DKIM's ARC verdict (libmail-dkim-perl 1.20230212, Mail::DKIM::ARC::Verifier,
# Strict => 1) for messages and a zone file.
#
# One of the two independent reference verifiers of the interop harness: a fixture
# is only trusted when this script and peer_verify.py (dkimpy) agree on it.
#
#     /usr/bin/perl peer_verify.pl ZONEFILE MESSAGE...
#
# prints one tab-separated line per message, as peer_verify.py does:
#
#     MESSAGE  VERDICT  OLDEST_PASS  RAW  REASON
#
#     /usr/bin/perl peer_verify.pl --batch MANIFEST
#
# does the same for many messages, each with its own zone: MANIFEST has one
# "ZONEFILE<TAB>MESSAGE" line per message (consecutive lines with the same zone share
# one resolver; the differential tester gives each key-record mutant its own zone).
#
# VERDICT is pass, fail or none; every other Mail::DKIM result (invalid, temperror)
# is a fail and RAW keeps it. OLDEST_PASS ("-" unless pass) follows RFC 8617 §5.2:
# 0 when every ARC-Message-Signature validates, else the lowest instance from which
# all newer ones validate. DNS answers come from ZONEFILE through
# Net::DNS::Resolver::Mock; a name absent from it has no TXT record.
# Messages are fed with CRLF line ends whatever the file uses.
use strict;
use warnings;

# PEER_VERIFY_NOW=UNIXTIME pins the clock Mail::DKIM reads (t= and x= checks) to that
# instant, as `filter-arc verify --now` does; it must take effect before Mail::DKIM is
# compiled.
BEGIN {
    if ( defined $ENV{PEER_VERIFY_NOW} && $ENV{PEER_VERIFY_NOW} =~ /^(\d+)$/ ) {
        my $now = $1;
        no warnings 'once';
        *CORE::GLOBAL::time = sub () { $now };
    }
}

use Mail::DKIM::ARC::Verifier;
use Mail::DKIM::DNS;
use Net::DNS::Resolver::Mock;

die "usage: $0 ZONEFILE MESSAGE... | $0 --batch MANIFEST\n" unless @ARGV >= 2;
my @jobs;    # [zone, message]
if ( $ARGV[0] eq '--batch' ) {
    for my $line ( split /\n/, slurp( $ARGV[1] ) ) {
        my ( $z, $m ) = split /\t/, $line, 2;
        push @jobs, [ $z, $m ] if defined $m;
    }
}
else {
    my ( $zone, @messages ) = @ARGV;
    @jobs = map { [ $zone, $_ ] } @messages;
}

my $current_zone = '';
sub use_zone {
    my ($zone) = @_;
    return if $zone eq $current_zone;
    my $resolver = Net::DNS::Resolver::Mock->new();
    $resolver->zonefile_read($zone);
    Mail::DKIM::DNS::resolver($resolver);
    $current_zone = $zone;
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or die "$path: $!\n";
    local $/;
    my $data = <$fh>;
    close $fh;
    return $data;
}

# RFC 8617 §5.2 step 5, from the per-AMS results the verifier recorded.
sub oldest_pass {
    my ($arc) = @_;
    my %ams_ok;
    for my $sig ( $arc->signatures ) {
        next unless $sig->isa('Mail::DKIM::ARC::MessageSignature');
        $ams_ok{ $sig->instance } = ( ( $sig->result // '' ) eq 'pass' );
    }
    my ($newest) = sort { $b <=> $a } keys %ams_ok;
    for ( my $i = $newest - 1 ; $i >= 1 ; $i-- ) {
        return $i + 1 unless $ams_ok{$i};
    }
    return 0;
}

binmode STDOUT, ':raw';
for my $job (@jobs) {
    my ( $zone, $path ) = @$job;
    use_zone($zone);
    my $data = slurp($path);
    $data =~ s/\r?\n/\r\n/g;

    # A die inside Mail::DKIM on hostile input is a verdict too (never a pass).
    my ( $verdict, $oldest, $raw, $reason ) = ( 'fail', '-', 'exception', '' );
    eval {
        my $arc = Mail::DKIM::ARC::Verifier->new( Strict => 1 );
        $arc->PRINT($data);
        $arc->CLOSE;
        $raw     = $arc->result // 'undef';
        $verdict = ( $raw eq 'pass' || $raw eq 'none' ) ? $raw : 'fail';
        $oldest  = $verdict eq 'pass' ? oldest_pass($arc) : '-';
        $reason  = $arc->result_detail // '';
        1;
    } or do {
        ( $verdict, $oldest, $raw, $reason ) = ( 'fail', '-', 'exception', "$@" );
    };
    $reason =~ s/\s+/ /g;
    print join( "\t", $path, $verdict, $oldest, $raw, $reason ), "\n";
}
