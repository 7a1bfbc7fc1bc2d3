// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/// @notice What `deposit` asks a collector to do: move `amount` of `token` from `payer` to the caller.
interface IDepositCollector {
    function collect(address payer, address token, uint256 amount, bytes32 channelId, bytes calldata collectorData) external;
}

/**
 * @title LocalBatchSettlement
 * @notice The x402 `batch-settlement` contract for the LOCAL test chain, written from the ABI and
 * EIP-712 types in the x402 EVM package (npm) and the scheme spec: payment channels that a payer
 * funds once and pays with cumulative vouchers; the receiver side claims vouchers in batches (an
 * accounting update, no transfer) and `settle` sweeps the claimed total to the receiver.
 *
 * Channel state: `balance` is what was deposited minus refunds and withdrawals; `totalClaimed`
 * (≤ balance) is what the receiver has claimed. The unclaimed escrow `balance − totalClaimed` is
 * all a refund or a withdrawal can ever return, so a claimed amount is never paid out twice.
 *
 * Deviations from the published contract, on purpose for a test chain: deposits only through the
 * ERC-3009 collector at its canonical address (no Permit2 collector), no reentrancy guard (the
 * token is this repository's own), no ERC-6492 counterfactual payers.
 *
 * The local chain installs the runtime code at the canonical address
 * 0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003 with `hardhat_setCode`: no constructor and no
 * immutables, so the EIP-712 domain separator is computed from `address(this)` on each use.
 */
contract LocalBatchSettlement {
    using SafeERC20 for IERC20;

    struct ChannelConfig {
        address payer;
        address payerAuthorizer;
        address receiver;
        address receiverAuthorizer;
        address token;
        uint40 withdrawDelay;
        bytes32 salt;
    }

    struct Voucher {
        ChannelConfig channel;
        uint128 maxClaimableAmount;
    }

    struct VoucherClaim {
        Voucher voucher;
        bytes signature;
        uint128 totalClaimed;
    }

    struct ChannelState {
        uint128 balance;
        uint128 totalClaimed;
    }

    struct PendingWithdrawal {
        uint128 amount;
        uint40 initiatedAt;
    }

    struct ReceiverState {
        uint128 totalClaimed;
        uint128 totalSettled;
    }

    bytes32 public constant CHANNEL_CONFIG_TYPEHASH = keccak256(
        "ChannelConfig(address payer,address payerAuthorizer,address receiver,address receiverAuthorizer,address token,uint40 withdrawDelay,bytes32 salt)"
    );
    bytes32 public constant VOUCHER_TYPEHASH = keccak256("Voucher(bytes32 channelId,uint128 maxClaimableAmount)");
    bytes32 public constant REFUND_TYPEHASH = keccak256("Refund(bytes32 channelId,uint256 nonce,uint128 amount)");
    bytes32 public constant CLAIM_ENTRY_TYPEHASH =
        keccak256("ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)");
    bytes32 public constant CLAIM_BATCH_TYPEHASH = keccak256(
        "ClaimBatch(ClaimEntry[] claims)ClaimEntry(bytes32 channelId,uint128 maxClaimableAmount,uint128 totalClaimed)"
    );
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    /// @notice The canonical ERC-3009 deposit collector (where the local chain installs LocalErc3009DepositCollector).
    address public constant ERC3009_DEPOSIT_COLLECTOR = 0x4020806089470a89826cB9fB1f4059150b550004;
    uint40 public constant MIN_WITHDRAW_DELAY = 15 minutes;
    uint40 public constant MAX_WITHDRAW_DELAY = 30 days;

    mapping(bytes32 channelId => ChannelState) public channels;
    mapping(bytes32 channelId => PendingWithdrawal) public pendingWithdrawals;
    mapping(bytes32 channelId => uint256) public refundNonce;
    mapping(address receiver => mapping(address token => ReceiverState)) public receivers;

    event Deposited(bytes32 indexed channelId, address indexed payer, uint128 amount);
    event Claimed(bytes32 indexed channelId, address indexed receiver, uint128 totalClaimed, uint128 delta);
    event Settled(address indexed receiver, address indexed token, address indexed sender, uint128 amount);
    event Refunded(bytes32 indexed channelId, address indexed payer, uint128 amount);
    event WithdrawInitiated(bytes32 indexed channelId, uint128 amount, uint40 initiatedAt);
    event Withdrawn(bytes32 indexed channelId, address indexed payer, uint128 amount);

    error ZeroAmount();
    error UnknownCollector();
    error WithdrawDelayOutOfRange();
    error ZeroReceiverAuthorizer();
    error DepositNotReceived();
    error Unauthorized();
    error InvalidVoucherSignature();
    error InvalidAuthorizerSignature();
    error MixedReceiverAuthorizers();
    error ClaimExceedsVoucher();
    error ClaimExceedsBalance();
    error ExceedsUnclaimedBalance();
    error NoPendingWithdrawal();
    error WithdrawDelayNotElapsed();
    error RefundNonceMismatch();

    // ---------------------------------------------------------------- views

    function getChannelId(ChannelConfig calldata config) public view returns (bytes32) {
        return _typedDigest(
            keccak256(
                abi.encode(
                    CHANNEL_CONFIG_TYPEHASH,
                    config.payer,
                    config.payerAuthorizer,
                    config.receiver,
                    config.receiverAuthorizer,
                    config.token,
                    config.withdrawDelay,
                    config.salt
                )
            )
        );
    }

    function getVoucherDigest(bytes32 channelId, uint128 maxClaimableAmount) public view returns (bytes32) {
        return _typedDigest(keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, maxClaimableAmount)));
    }

    function getRefundDigest(bytes32 channelId, uint256 nonce, uint128 amount) public view returns (bytes32) {
        return _typedDigest(keccak256(abi.encode(REFUND_TYPEHASH, channelId, nonce, amount)));
    }

    function getClaimBatchDigest(VoucherClaim[] calldata voucherClaims) public view returns (bytes32) {
        bytes32[] memory entries = new bytes32[](voucherClaims.length);
        for (uint256 i = 0; i < voucherClaims.length; i++) {
            VoucherClaim calldata c = voucherClaims[i];
            entries[i] = keccak256(
                abi.encode(CLAIM_ENTRY_TYPEHASH, getChannelId(c.voucher.channel), c.voucher.maxClaimableAmount, c.totalClaimed)
            );
        }
        return _typedDigest(keccak256(abi.encode(CLAIM_BATCH_TYPEHASH, keccak256(abi.encodePacked(entries)))));
    }

    // ---------------------------------------------------------------- deposit

    /// @notice Credits `amount` to the channel of `config`, pulled from the payer by `collector`.
    function deposit(ChannelConfig calldata config, uint128 amount, address collector, bytes calldata collectorData) external {
        if (amount == 0) revert ZeroAmount();
        if (collector != ERC3009_DEPOSIT_COLLECTOR) revert UnknownCollector();
        if (config.withdrawDelay < MIN_WITHDRAW_DELAY || config.withdrawDelay > MAX_WITHDRAW_DELAY) revert WithdrawDelayOutOfRange();
        if (config.receiverAuthorizer == address(0)) revert ZeroReceiverAuthorizer();
        bytes32 channelId = getChannelId(config);
        IERC20 token = IERC20(config.token);
        uint256 before = token.balanceOf(address(this));
        IDepositCollector(collector).collect(config.payer, config.token, amount, channelId, collectorData);
        if (token.balanceOf(address(this)) - before != amount) revert DepositNotReceived();
        channels[channelId].balance += amount;
        emit Deposited(channelId, config.payer, amount);
    }

    // ---------------------------------------------------------------- claim and settle

    /// @notice Claims vouchers; the caller must be the receiver or receiverAuthorizer of every row.
    function claim(VoucherClaim[] calldata voucherClaims) external {
        for (uint256 i = 0; i < voucherClaims.length; i++) {
            ChannelConfig calldata ch = voucherClaims[i].voucher.channel;
            if (msg.sender != ch.receiver && msg.sender != ch.receiverAuthorizer) revert Unauthorized();
            _claim(voucherClaims[i]);
        }
    }

    /// @notice Claims vouchers authorized by one `ClaimBatch` signature of their common receiverAuthorizer; anyone may relay.
    function claimWithSignature(VoucherClaim[] calldata voucherClaims, bytes calldata authorizerSignature) external {
        if (voucherClaims.length == 0) return;
        address authorizer = voucherClaims[0].voucher.channel.receiverAuthorizer;
        for (uint256 i = 1; i < voucherClaims.length; i++) {
            if (voucherClaims[i].voucher.channel.receiverAuthorizer != authorizer) revert MixedReceiverAuthorizers();
        }
        if (!SignatureChecker.isValidSignatureNow(authorizer, getClaimBatchDigest(voucherClaims), authorizerSignature)) {
            revert InvalidAuthorizerSignature();
        }
        for (uint256 i = 0; i < voucherClaims.length; i++) _claim(voucherClaims[i]);
    }

    /// @notice Transfers everything claimed and not yet settled for `receiver` and `token` to `receiver`; permissionless.
    function settle(address receiver, address token) external {
        ReceiverState storage r = receivers[receiver][token];
        uint128 amount = r.totalClaimed - r.totalSettled;
        r.totalSettled = r.totalClaimed;
        if (amount > 0) IERC20(token).safeTransfer(receiver, amount);
        emit Settled(receiver, token, msg.sender, amount);
    }

    // ---------------------------------------------------------------- refunds and withdrawal

    function refund(ChannelConfig calldata config, uint128 amount) external {
        if (msg.sender != config.receiver && msg.sender != config.receiverAuthorizer) revert Unauthorized();
        _refund(config, getChannelId(config), amount);
    }

    function refundWithSignature(ChannelConfig calldata config, uint128 amount, uint256 nonce, bytes calldata receiverAuthorizerSignature)
        external
    {
        bytes32 channelId = getChannelId(config);
        if (nonce != refundNonce[channelId]) revert RefundNonceMismatch();
        if (!SignatureChecker.isValidSignatureNow(config.receiverAuthorizer, getRefundDigest(channelId, nonce, amount), receiverAuthorizerSignature)) {
            revert InvalidAuthorizerSignature();
        }
        _refund(config, channelId, amount);
    }

    /// @notice Starts the payer's timed withdrawal of at most the unclaimed escrow.
    function initiateWithdraw(ChannelConfig calldata config, uint128 amount) external {
        if (msg.sender != config.payer && msg.sender != config.payerAuthorizer) revert Unauthorized();
        if (amount == 0) revert ZeroAmount();
        bytes32 channelId = getChannelId(config);
        ChannelState storage c = channels[channelId];
        if (amount > c.balance - c.totalClaimed) revert ExceedsUnclaimedBalance();
        pendingWithdrawals[channelId] = PendingWithdrawal(amount, uint40(block.timestamp));
        emit WithdrawInitiated(channelId, amount, uint40(block.timestamp));
    }

    /// @notice After `withdrawDelay`, pays the payer what is still unclaimed, up to the amount initiated.
    function finalizeWithdraw(ChannelConfig calldata config) external {
        if (msg.sender != config.payer && msg.sender != config.payerAuthorizer) revert Unauthorized();
        bytes32 channelId = getChannelId(config);
        PendingWithdrawal memory w = pendingWithdrawals[channelId];
        if (w.initiatedAt == 0) revert NoPendingWithdrawal();
        if (block.timestamp < uint256(w.initiatedAt) + config.withdrawDelay) revert WithdrawDelayNotElapsed();
        delete pendingWithdrawals[channelId];
        ChannelState storage c = channels[channelId];
        uint128 unclaimed = c.balance - c.totalClaimed;
        uint128 amount = w.amount < unclaimed ? w.amount : unclaimed;
        c.balance -= amount;
        if (amount > 0) IERC20(config.token).safeTransfer(config.payer, amount);
        emit Withdrawn(channelId, config.payer, amount);
    }

    /// @notice Runs several calls of this contract in one transaction (e.g. claim, then refund).
    function multicall(bytes[] calldata data) external returns (bytes[] memory results) {
        results = new bytes[](data.length);
        for (uint256 i = 0; i < data.length; i++) {
            (bool ok, bytes memory ret) = address(this).delegatecall(data[i]);
            if (!ok) {
                assembly {
                    revert(add(ret, 32), mload(ret))
                }
            }
            results[i] = ret;
        }
    }

    // ---------------------------------------------------------------- internals

    /// @dev Raises the channel's claimed total to the row's `totalClaimed` (a lower or equal one is a no-op, so a stale row cannot undo a claim).
    function _claim(VoucherClaim calldata c) private {
        ChannelConfig calldata ch = c.voucher.channel;
        bytes32 channelId = getChannelId(ch);
        bytes32 digest = getVoucherDigest(channelId, c.voucher.maxClaimableAmount);
        bool signed = ch.payerAuthorizer != address(0)
            ? _recovers(digest, c.signature, ch.payerAuthorizer)
            : SignatureChecker.isValidSignatureNow(ch.payer, digest, c.signature);
        if (!signed) revert InvalidVoucherSignature();
        if (c.totalClaimed > c.voucher.maxClaimableAmount) revert ClaimExceedsVoucher();
        ChannelState storage state = channels[channelId];
        if (c.totalClaimed > state.balance) revert ClaimExceedsBalance();
        if (c.totalClaimed <= state.totalClaimed) return;
        uint128 delta = c.totalClaimed - state.totalClaimed;
        state.totalClaimed = c.totalClaimed;
        receivers[ch.receiver][ch.token].totalClaimed += delta;
        emit Claimed(channelId, ch.receiver, c.totalClaimed, delta);
    }

    /// @dev The nonce advances first, even when nothing is left to return (per the spec).
    function _refund(ChannelConfig calldata config, bytes32 channelId, uint128 amount) private {
        refundNonce[channelId] += 1;
        ChannelState storage c = channels[channelId];
        uint128 unclaimed = c.balance - c.totalClaimed;
        uint128 paid = amount < unclaimed ? amount : unclaimed;
        if (paid == 0) return;
        c.balance -= paid;
        PendingWithdrawal storage w = pendingWithdrawals[channelId];
        if (w.initiatedAt != 0) {
            if (paid >= w.amount) delete pendingWithdrawals[channelId];
            else w.amount -= paid;
        }
        IERC20(config.token).safeTransfer(config.payer, paid);
        emit Refunded(channelId, config.payer, paid);
    }

    function _recovers(bytes32 digest, bytes calldata signature, address expected) private pure returns (bool) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        return err == ECDSA.RecoverError.NoError && recovered == expected;
    }

    function _typedDigest(bytes32 structHash) private view returns (bytes32) {
        bytes32 domainSeparator = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("x402 Batch Settlement"), keccak256("1"), block.chainid, address(this))
        );
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }
}
