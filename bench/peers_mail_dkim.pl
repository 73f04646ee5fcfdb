#!/usr/bin/perl
# SPDX-License-Identifier: ISC
# The Mail::DKIM peer of `scripts/bench --peers` (issue 21): seals and verifies the bench's
# corpus with Debian's libmail-dkim-perl, in this one process, DNS answered from memory (the
# Mail::DKIM::DNS query function replaced), the private key loaded once. Run by filter-arc-bench
# pinned to the same core as our figures.
#
# usage: peers_mail_dkim.pl DIR SECONDS
#   DIR as for peers_dkimpy.py. Writes DIR/mail-dkim-sealed.eml for our verifier and prints
#   PEER peer=mail-dkim figure=NAME per_s=N result=R
use strict;
use warnings;
use Mail::DKIM::ARC::Signer;
use Mail::DKIM::ARC::Verifier;
use Mail::DKIM::DNS;
use Mail::DKIM::PrivateKey;
use Mail::DKIM::TextWrap;
use Net::DNS;

my ( $dir, $seconds ) = @ARGV;
$| = 1;

sub slurp {
    my ($name) = @_;
    open( my $fh, '<:raw', "$dir/$name" ) or die "$dir/$name: $!";
    local $/;
    my $data = <$fh>;
    close $fh;
    return $data;
}

# DNS from memory (the bench's warm cache): one TXT RR per name, made once.
my %zone;
for my $line ( split /\n/, slurp('zone.txt') ) {
    my ( $name, $record ) = split /\t/, $line, 2;
    $name =~ s/\.$//;
    my @strings = unpack '(A250)*', $record;
    $zone{ lc $name } =
      Net::DNS::RR->new( name => $name, type => 'TXT', txtdata => [@strings] );
}
{
    no warnings 'redefine';
    *Mail::DKIM::DNS::query = sub {
        my ( $domain, $type ) = @_;
        $domain =~ s/\.$//;
        my $rr = $zone{ lc $domain };
        $@ = $rr ? 'NOERROR' : 'NXDOMAIN';
        return $rr ? ($rr) : ();
    };
}

# CPU seconds of this process (user + system).
sub cpu {
    my ( $u, $s ) = times;
    return $u + $s;
}

# Calls per CPU second, at least 3 calls and $seconds of CPU, after one warm-up call.
sub rate {
    my ($op) = @_;
    $op->();
    my ( $n, $start ) = ( 0, cpu() );
    while (1) {
        $op->();
        ++$n;
        my $used = cpu() - $start;
        return $n / $used if $n >= 3 && $used >= $seconds;
    }
}

my $key = Mail::DKIM::PrivateKey->load( File => "$dir/key.pem" );
my $seal_input = slurp('seal.eml');

sub seal {
    my $signer = Mail::DKIM::ARC::Signer->new(
        Algorithm => 'rsa-sha256',
        Chain     => 'ar',
        Domain    => 'hop1.example',
        SrvId     => 'bench.test',
        Selector  => 's1',
        Key       => $key,
        Timestamp => 1715677950,
    );
    $signer->PRINT($seal_input);
    $signer->CLOSE;
    return $signer;
}

my $first = seal();
my $sealed = $first->result eq 'sealed' ? 'ok' : 'fail';
{
    open( my $fh, '>:raw', "$dir/mail-dkim-sealed.eml" ) or die $!;
    my $set = $first->as_string;
    $set =~ s/\015?\012/\015\012/g;
    $set .= "\015\012" unless $set =~ /\015\012$/;
    print $fh $set, $seal_input;
    close $fh;
}
printf "PEER peer=mail-dkim figure=seal_4k per_s=%.1f result=%s\n", rate( \&seal ), $sealed;

for my $figure (qw(verify1_4k verify1_10m)) {
    my $message = slurp("$figure.eml");
    my $verify  = sub {
        my $v = Mail::DKIM::ARC::Verifier->new;
        $v->PRINT($message);
        $v->CLOSE;
        return $v;
    };
    my $v      = $verify->();
    my $result = $v->result eq 'pass' ? 'pass' : $v->result . '(' . ( $v->result_detail // '' ) . ')';
    $result =~ s/\s/_/g;
    printf "PEER peer=mail-dkim figure=%s per_s=%.2f result=%s\n", $figure, rate($verify), $result;
}
