#!/usr/bin/perl
# Seal one ARC hop with Mail::DKIM (libmail-dkim-perl 1.20230212,
# Mail::DKIM::ARC::Signer).
#
# One of the two independent reference sealers of the interop harness.
#
#     /usr/bin/perl peer_seal.pl --domain D --selector S --key KEY.pem \
#         --authserv-id ID --timestamp T [--headers h1:h2] MESSAGE > SEALED
#
# writes the sealed message: the new ARC-Seal, ARC-Message-Signature and
# ARC-Authentication-Results on top, then MESSAGE byte for byte, the new fields in
# MESSAGE's line ending (CRLF or LF).
#
#     /usr/bin/perl peer_seal.pl --batch JOBS
#
# seals many messages in one process (Mail::DKIM's start-up is most of the cost).
# JOBS has one tab-separated line per message:
# DOMAIN SELECTOR KEY AUTHSERV-ID TIMESTAMP INPUT OUTPUT. For each job, the script
# prints "ok OUTPUT" or "error OUTPUT REASON" (tab-separated).
#
# Chain => 'ar': cv= is taken from the arc= result of the Authentication-Results
# whose authserv-id is ID, and those fields become the AAR. Mail::DKIM requires that
# A-R to be above every ARC field. Otherwise it declines to seal: exit 1 with the
# reason on stderr. --headers adds header names to Mail::DKIM's default AMS list.
use strict;
use warnings;

use Getopt::Long;
use Mail::DKIM::ARC::Signer;
use Mail::DKIM::TextWrap;    # folds the new fields as a deployment would

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or die "$path: $!\n";
    local $/;
    my $data = <$fh>;
    close $fh;
    return $data;
}

# Returns the sealed message; dies with the reason when Mail::DKIM does not seal.
sub seal {
    my ( $opt, $raw ) = @_;
    my $eol    = $raw =~ /\r\n/ ? "\r\n" : "\n";
    my $signer = Mail::DKIM::ARC::Signer->new(
        Algorithm => 'rsa-sha256',
        Chain     => 'ar',
        Domain    => $opt->{domain},
        Selector  => $opt->{selector},
        SrvId     => lc $opt->{'authserv-id'},
        KeyFile   => $opt->{key},
        Timestamp => $opt->{timestamp},
        ( $opt->{headers} ? ( Headers => $opt->{headers} ) : () ),
    );
    ( my $crlf = $raw ) =~ s/\r?\n/\r\n/g;
    $signer->PRINT($crlf);
    $signer->CLOSE;
    if ( $signer->result ne 'sealed' ) {
        die 'Mail::DKIM did not seal: ' . $signer->result . ' (' . ( $signer->{details} // '?' ) . ")\n";
    }
    my $set = $signer->as_string;    # ARC-Seal, ARC-Message-Signature, AAR; CRLF-separated
    $set =~ s/\r\n/$eol/g;
    return $set . $raw;
}

my %opt;
GetOptions( \%opt, 'domain=s', 'selector=s', 'key=s', 'authserv-id=s', 'timestamp=i', 'headers=s',
    'batch=s' )
  or die "bad options\n";
binmode STDOUT, ':raw';

if ( defined $opt{batch} ) {
    for my $line ( split /\n/, slurp( $opt{batch} ) ) {
        my %job;
        @job{qw(domain selector key authserv-id timestamp input output)} = split /\t/, $line;
        my $sealed = eval { seal( \%job, slurp( $job{input} ) ) };
        if ( !defined $sealed ) {
            ( my $why = $@ ) =~ s/\s+/ /g;
            print "error\t$job{output}\t$why\n";
            next;
        }
        open my $out, '>:raw', $job{output} or die "$job{output}: $!\n";
        print {$out} $sealed;
        close $out or die "$job{output}: $!\n";
        print "ok\t$job{output}\n";
    }
    exit 0;
}

for my $required (qw(domain selector key authserv-id timestamp)) {
    die "usage: $0 --domain D --selector S --key KEY --authserv-id ID --timestamp T MESSAGE\n"
      unless defined $opt{$required};
}
die "usage: $0 [options] MESSAGE\n" unless @ARGV == 1;

my $sealed = eval { seal( \%opt, slurp( $ARGV[0] ) ) };
if ( !defined $sealed ) {
    print STDERR "peer_seal.pl: $@";
    exit 1;
}
print $sealed;
